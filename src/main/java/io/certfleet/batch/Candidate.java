package io.certfleet.batch;

import java.util.Objects;
import java.util.Optional;

/** A name ready to be ordered: its domain id, the identifier sent to the CA, and its customer (grouping key). */
public record Candidate(long domainId, String identifier, Optional<String> customer) {
    public Candidate {
        Objects.requireNonNull(identifier, "identifier");
        Objects.requireNonNull(customer, "customer");
    }

    /** The grouping key: the customer, or the empty string for names without one. */
    String groupKey() {
        return customer.orElse("");
    }
}
