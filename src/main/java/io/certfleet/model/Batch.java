package io.certfleet.model;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A batch as the pipeline sees it: its state, where its order lives, its open members and bisection facts.
 *
 * @param attempts   re-orders after names were blamed (production stops re-ordering after a few)
 * @param caFailures CA-side failures in a row (outages, errors of ours); reset by every step that gets an answer
 * @param probeIds on a bisection probe, the suspect domain ids it tests (empty otherwise)
 * @param bisect   on a split batch, its search state; on a re-rehearsal after a search, the verified ids
 */
public record Batch(long id, CaEnvironment environment, BatchState state, Optional<String> customer,
                    Optional<Long> parentId, Optional<Long> rehearsalId, Optional<Long> accountId,
                    Optional<String> orderUrl, int attempts, int caFailures, Optional<Instant> notBefore,
                    List<BatchMember> members,
                    Set<Long> probeIds, Optional<BisectState> bisect, Optional<byte[]> certKeyCiphertext,
                    Optional<String> certKeyAlgorithm, Optional<String> errorDetail) {
    public Batch {
        members = List.copyOf(members);
        probeIds = Set.copyOf(probeIds);
    }

    public List<String> identifiers() {
        return members.stream().map(BatchMember::identifier).toList();
    }

    @Override
    public String toString() {
        return "batch " + id + " (" + environment.wire() + ", " + members.size() + " names, " + state.wire() + ")";
    }
}
