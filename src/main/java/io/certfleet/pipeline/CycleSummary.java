package io.certfleet.pipeline;

import java.time.Duration;
import java.util.Map;

/**
 * What one cycle did: names issued, held back by reason, skipped as fresh, orders spent per environment,
 * certificates written, and whether it finished (no open batch left) or stopped at its deadline.
 */
public record CycleSummary(long namesIssued, Map<String, Long> quarantinedByReason, Map<String, Long> heldByReason,
                           int skippedFresh, int prechecked, boolean resolverDegraded, long stagingOrders,
                           long productionOrders, long certificatesWritten, long pendingLeft, long openBatchesLeft,
                           Duration elapsed) {

    public boolean finished() {
        return openBatchesLeft == 0;
    }
}
