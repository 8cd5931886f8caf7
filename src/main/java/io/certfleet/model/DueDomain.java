package io.certfleet.model;

import java.util.Optional;

/** A domain the next run may order: pending, or quarantined/held whose next attempt is due. */
public record DueDomain(long id, DomainName name, Optional<String> customer, DomainState state, int attempts,
                        Optional<String> registeredDomain) {
    public DueDomain(long id, DomainName name, Optional<String> customer, DomainState state, int attempts) {
        this(id, name, customer, state, attempts, Optional.empty());
    }
}
