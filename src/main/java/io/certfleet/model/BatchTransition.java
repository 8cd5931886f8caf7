package io.certfleet.model;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One atomic change to a batch and the names in it: the batch's new state, names quarantined (with reason) or
 * released back to the queue, child batches created for the remaining names, and the parent's bisection state.
 * The store applies it in one transaction, so a crash leaves either all of it or none.
 *
 * <p>{@code parkIn}: during a bisection search, the names not in the current probe wait as active members of the
 * split batch (parked), so no other run takes them; closing a probe parks its remaining names back there, and
 * creating a child releases the child's names from the parking.
 *
 * <p>{@code retried}: names whose failure may not be their own (see {@code pipeline.Triggers}): not quarantined, they
 * go on in a child; the reason is recorded on their member row and on the domain, so after
 * {@code Triggers.RETRIES_IN_A_ROW} such failures in a row the next is blamed.
 */
public record BatchTransition(long batchId, BatchState newState, Optional<String> errorType,
                              Optional<String> errorDetail, Map<Long, Reason> quarantine, Backoff quarantineBackoff,
                              Map<Long, Reason> release, List<NewBatch> children,
                              Optional<ParentUpdate> parentUpdate, Optional<Long> parkIn, Map<Long, Hold> hold,
                              Map<Long, Reason> retried) {

    public BatchTransition {
        quarantine = Map.copyOf(quarantine);
        release = Map.copyOf(release);
        children = List.copyOf(children);
        hold = Map.copyOf(hold);
        retried = Map.copyOf(retried);
    }

    /** A transition that holds and retries no name (see {@link #hold()}, {@link #retried()}). */
    public BatchTransition(long batchId, BatchState newState, Optional<String> errorType, Optional<String> errorDetail,
                           Map<Long, Reason> quarantine, Backoff quarantineBackoff, Map<Long, Reason> release,
                           List<NewBatch> children, Optional<ParentUpdate> parentUpdate, Optional<Long> parkIn) {
        this(batchId, newState, errorType, errorDetail, quarantine, quarantineBackoff, release, children, parentUpdate,
                parkIn, Map.of(), Map.of());
    }

    /**
     * A name taken out of the batch that waits in {@code state} ({@code held} for a limit, {@code quarantined}
     * when stopped for its own fault) until {@code until}, or, with no time, until an operator releases it.
     */
    public record Hold(Reason reason, DomainState state, Optional<java.time.Instant> until) {
        public Hold {
            if (state != DomainState.HELD && state != DomainState.QUARANTINED) {
                throw new IllegalArgumentException("a name is held or quarantined, not " + state);
            }
        }
    }

    /**
     * When a quarantined name is looked at again: {@code first} after its first failure, doubling with each
     * failure it already had ({@code domain.attempts}), at most {@code max}.
     */
    public record Backoff(java.time.Duration first, java.time.Duration max) {
        public static final Backoff NONE = new Backoff(java.time.Duration.ZERO, java.time.Duration.ZERO);
    }

    /** Why a domain was quarantined or released: a reason code and a sentence. */
    public record Reason(String code, String detail) {
    }

    /** A batch to create, inheriting the closed batch's names it lists. */
    public record NewBatch(CaEnvironment environment, Optional<String> customer, Optional<Long> parentId,
                           Optional<Long> rehearsalId, List<Long> domainIds, List<Long> probeIds,
                           Optional<BisectState> bisect, int attempts) {
        public NewBatch {
            domainIds = List.copyOf(domainIds);
            probeIds = List.copyOf(probeIds);
        }
    }

    /** New bisection state (and optionally state) of the closed batch's parent. */
    public record ParentUpdate(long parentId, Optional<BisectState> bisect, Optional<BatchState> newState) {
    }
}
