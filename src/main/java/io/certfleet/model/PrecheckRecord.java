package io.certfleet.model;

import java.time.Instant;
import java.util.Optional;

/**
 * A pre-check (or fresh-skip) outcome for one stored domain, and what it does to the domain.
 *
 * @param newState    the domain's state afterwards
 * @param reasonCode  recorded on the domain (empty clears it)
 * @param nextAttempt when a quarantined or held domain is looked at again
 */
public record PrecheckRecord(long domainId, String verdict, String reason, Optional<String> level, String detail,
                             Optional<String> evidenceJson, long elapsedMs, DomainState newState,
                             Optional<String> reasonCode, Optional<Instant> nextAttempt) {
}
