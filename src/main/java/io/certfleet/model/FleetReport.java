package io.certfleet.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code certfleet report} shows: the last run, the fleet by state and held-back reason over time (the last
 * sample is the fleet at {@link #generatedAt()}), production certificates by weeks to expiry, and the reasons that
 * hold back the most names. Every string in it may come from customer input.
 */
public record FleetReport(Instant generatedAt, Optional<LastRun> lastRun, List<Sample> history,
                          List<ExpiryWeek> expiry, List<HeldBack> topHeldBack) {

    public FleetReport {
        history = List.copyOf(history);
        expiry = List.copyOf(expiry);
        topHeldBack = List.copyOf(topHeldBack);
    }

    /** The fleet now: the last sample. */
    public Sample now() {
        return history.get(history.size() - 1);
    }

    /**
     * One issuance run and what happened from its start until {@code until} (the next run's start, or now).
     *
     * @param kind          {@code once} (run --once) or {@code nightly} (the daemon's admission)
     * @param endedAt       when the run returned; empty while it runs
     * @param namesDue      names admission looked at
     * @param namesChecked  names CAA pre-checked
     * @param namesFresh    names whose fresh production authorization skipped the pre-check and rehearsal
     * @param namesOrdered  distinct names in orders placed, per environment
     * @param orders        new orders placed, per environment
     * @param namesQuarantined names quarantined (still) since the run started
     * @param namesHeld     names held (still) since the run started
     * @param openBatches   batches not finished now
     */
    public record LastRun(String kind, String node, Instant startedAt, Optional<Instant> endedAt, Instant until,
                          long namesDue, long namesChecked, long namesFresh, Map<CaEnvironment, Long> namesOrdered,
                          Map<CaEnvironment, Long> orders, long namesIssued, long certificates, long namesQuarantined,
                          long namesHeld, long openBatches) {
        public LastRun {
            namesOrdered = Map.copyOf(namesOrdered);
            orders = Map.copyOf(orders);
        }
    }

    /** Names by state, and held or quarantined names by reason code, at one moment. */
    public record Sample(Instant at, Map<DomainState, Long> byState, Map<String, Long> heldBackByReason) {
        public Sample {
            byState = Map.copyOf(byState);
            heldBackByReason = Map.copyOf(heldBackByReason);
        }

        public long state(DomainState s) {
            return byState.getOrDefault(s, 0L);
        }
    }

    /**
     * Production certificates not yet replaced whose expiry falls in one week from now: {@code week} 0 is the next
     * 7 days; -1 collects the expired ones; the last bucket also holds everything later.
     */
    public record ExpiryWeek(int week, long certificates, long names) {
    }

    /** A reason that holds names back, how many, and one example name and its detail (as the customer sees it). */
    public record HeldBack(DomainState state, String reason, long names, String exampleName,
                           Optional<String> exampleDetail) {
    }
}
