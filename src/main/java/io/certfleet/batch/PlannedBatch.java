package io.certfleet.batch;

import java.util.List;
import java.util.Optional;

/**
 * One order to place: its members in identifier order, and the customer when every member belongs to the same
 * one.
 */
public record PlannedBatch(Optional<String> customer, List<Candidate> members) {
    public PlannedBatch {
        members = List.copyOf(members);
        if (members.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one member");
        }
    }

    public List<String> identifiers() {
        return members.stream().map(Candidate::identifier).toList();
    }
}
