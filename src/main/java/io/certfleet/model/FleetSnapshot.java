package io.certfleet.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The fleet at one moment, for status, metrics and plans: domains by state and by held-back reason, batches in
 * flight, ACME requests and pre-check verdicts of the last 24 hours, certificates by days to expiry, and the
 * orders spent per environment in Let's Encrypt's new-orders window (3 hours).
 */
public record FleetSnapshot(Instant at, Map<DomainState, Long> domainsByState, Map<String, Long> heldBackByReason,
                            List<InFlight> batchesInFlight, List<Requests> requestsLast24h,
                            Map<String, Long> precheckByReasonLast24h, long certificatesExpiringIn7Days,
                            long certificatesExpiringIn30Days, long certificatesValid,
                            Map<CaEnvironment, Long> newOrdersLast3h) {

    /** Open batches of one environment and state, and the earliest time one of them waits for. */
    public record InFlight(CaEnvironment environment, BatchState state, long count, java.util.Optional<Instant> nextDue) {
    }

    /** ACME requests of one kind and outcome. */
    public record Requests(CaEnvironment environment, String request, String outcome, long count) {
    }
}
