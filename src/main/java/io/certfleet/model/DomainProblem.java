package io.certfleet.model;

import java.time.Instant;
import java.util.Optional;

/** A domain that is held or quarantined, with why and when it is tried again. */
public record DomainProblem(String name, DomainState state, Optional<String> reason, Optional<String> detail,
                            Instant since, Optional<Instant> nextAttempt) {
}
