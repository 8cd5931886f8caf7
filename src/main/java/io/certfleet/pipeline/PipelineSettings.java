package io.certfleet.pipeline;

import io.certfleet.batch.Packer;
import io.certfleet.model.OrderWindow;

import java.time.Duration;

/**
 * How the pipeline behaves; built from the configuration by the composition root.
 *
 * @param maxNames               most names per order
 * @param grouping               how names are packed
 * @param freshFor               a production authorization validated less than this ago needs no pre-check or
 *                               rehearsal (Let's Encrypt rechecks CAA after 7 h)
 * @param holdAtRisk             hold back at-risk names (sweep findings) instead of ordering them
 * @param parallelBatches        batches stepped at once
 * @param pollInterval           how long to wait between polls when the CA gives no Retry-After
 * @param maxAttempts            CA-side failures (outages, our-side errors) of one batch before it is abandoned
 *                               and its names go back to the queue
 * @param maxProductionReorders  production re-orders of one promoted set (the batch's {@code attempts}, inherited by
 *                               each re-order, across runs) before the rest go back to the queue
 * @param quarantineBackoff      first re-check delay of a quarantined name; doubles per attempt
 * @param quarantineBackoffMax   longest re-check delay
 * @param caBackoff              first retry delay after a CA-side failure without Retry-After; doubles per attempt
 * @param budget                 Let's Encrypt's limits certfleet keeps to by itself
 * @param authzReuseMargin       a fresh authorization must stay valid at least this long for the CA to reuse it
 *                               (Let's Encrypt: order lifetime / 8, clamped to 1–24 h; 21 h for classic)
 * @param orderWindow            when new orders may start (the daemon's nightly window); batches already ordered
 *                               are advanced at any time
 */
public record PipelineSettings(int maxNames, Packer.Grouping grouping, Duration freshFor, boolean holdAtRisk,
                               int parallelBatches, Duration pollInterval, int maxAttempts, int maxProductionReorders,
                               Duration quarantineBackoff, Duration quarantineBackoffMax, Duration caBackoff,
                               Duration authzReuseMargin, Limits budget, OrderWindow orderWindow) {

    /**
     * The CA's limits certfleet keeps to by itself (le-behaviour.md §5), and its own pause guard.
     *
     * @param stagingOrdersPer3h                  new orders per account per 3 hours at staging
     * @param productionOrdersPer3h               the same at production
     * @param certificatesPerDomainPer7d          production certificates per registered domain per 7 days
     * @param certificatesPerExactSetPer7d        production certificates per exact set of names per 7 days
     * @param stagingFailedAuthorizationsPerHour  failed authorizations per name per account per hour at staging
     * @param productionFailedAuthorizationsPerHour the same at production
     * @param pauseGuardFailures                  consecutive failed authorizations of a name (for one account) at
     *                                            which certfleet stops ordering it until an operator releases it
     */
    public record Limits(long stagingOrdersPer3h, long productionOrdersPer3h, long certificatesPerDomainPer7d,
                         long certificatesPerExactSetPer7d, long stagingFailedAuthorizationsPerHour,
                         long productionFailedAuthorizationsPerHour, int pauseGuardFailures) {
        /** Let's Encrypt's published values (staging's for staging), and a pause guard of 10 failures. */
        public static Limits letsEncrypt() {
            return new Limits(1500, 300, 50, 5, 200, 5, 10);
        }

        public long ordersPer3h(io.certfleet.model.CaEnvironment env) {
            return env == io.certfleet.model.CaEnvironment.PRODUCTION ? productionOrdersPer3h : stagingOrdersPer3h;
        }

        public long failedAuthorizationsPerHour(io.certfleet.model.CaEnvironment env) {
            return env == io.certfleet.model.CaEnvironment.PRODUCTION ? productionFailedAuthorizationsPerHour
                    : stagingFailedAuthorizationsPerHour;
        }
    }

    public static PipelineSettings defaults() {
        return new PipelineSettings(100, Packer.Grouping.KEEP_CUSTOMERS_TOGETHER, Duration.ofHours(7), true, 4,
                Duration.ofSeconds(2), 8, 3, Duration.ofHours(1), Duration.ofDays(7), Duration.ofSeconds(30),
                Duration.ofHours(21), Limits.letsEncrypt(), OrderWindow.ALWAYS_OPEN);
    }

    public PipelineSettings withOrderWindow(OrderWindow window) {
        return new PipelineSettings(maxNames, grouping, freshFor, holdAtRisk, parallelBatches, pollInterval,
                maxAttempts, maxProductionReorders, quarantineBackoff, quarantineBackoffMax, caBackoff,
                authzReuseMargin, budget, window);
    }

    /** {@code base · 2^(attempts)} capped at {@code max}. */
    static Duration backoff(Duration base, Duration max, int attempts) {
        int shift = Math.min(Math.max(attempts, 0), 20);
        Duration d = base.multipliedBy(1L << shift);
        return d.compareTo(max) > 0 ? max : d;
    }
}
