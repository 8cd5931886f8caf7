package io.certfleet.app;

import io.certfleet.model.CaEnvironment;
import io.certfleet.pipeline.PipelineSettings;
import io.certfleet.store.BudgetLimitStore;
import io.certfleet.store.HistoryStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.List;
import java.util.OptionalLong;

/**
 * Bookkeeping for {@code certfleet report} and the {@code v_budget} view: records runs (with a fleet sample at
 * their end), fleet samples, and the CA limits this node keeps to. A failed write is logged and never fails the
 * run it describes.
 */
final class RunLog {
    private static final Logger log = LoggerFactory.getLogger(RunLog.class);

    private final HistoryStore history;
    private final Clock clock;
    private final String node;

    RunLog(HistoryStore history, Clock clock, String node) {
        this.history = history;
        this.clock = clock;
        this.node = node;
    }

    /** Records that a run of {@code kind} ({@code once}, {@code nightly}) starts now. */
    OptionalLong started(String kind) {
        try {
            return OptionalLong.of(history.runStarted(kind, node, clock.instant()));
        } catch (RuntimeException e) {
            log.warn("history: cannot record the start of a {} run: {}", kind, e.toString());
            return OptionalLong.empty();
        }
    }

    /** Records that the run ended now, and samples the fleet. */
    void ended(OptionalLong run) {
        try {
            if (run.isPresent()) {
                history.runEnded(run.getAsLong(), clock.instant());
            }
            history.sample(clock.instant());
        } catch (RuntimeException e) {
            log.warn("history: cannot record the end of run {}: {}", run, e.toString());
        }
    }

    /** The limits as {@code budget_limit} rows; their names are the reason codes without {@code BUDGET_}. */
    static List<BudgetLimitStore.Limit> limits(PipelineSettings.Limits l) {
        return List.of(
                new BudgetLimitStore.Limit("NEW_ORDERS", CaEnvironment.STAGING, l.stagingOrdersPer3h()),
                new BudgetLimitStore.Limit("NEW_ORDERS", CaEnvironment.PRODUCTION, l.productionOrdersPer3h()),
                new BudgetLimitStore.Limit("CERTIFICATES_PER_DOMAIN", CaEnvironment.PRODUCTION,
                        l.certificatesPerDomainPer7d()),
                new BudgetLimitStore.Limit("EXACT_SET", CaEnvironment.PRODUCTION, l.certificatesPerExactSetPer7d()),
                new BudgetLimitStore.Limit("FAILED_AUTHORIZATIONS", CaEnvironment.STAGING,
                        l.stagingFailedAuthorizationsPerHour()),
                new BudgetLimitStore.Limit("FAILED_AUTHORIZATIONS", CaEnvironment.PRODUCTION,
                        l.productionFailedAuthorizationsPerHour()));
    }

    /** Writes the limits of {@code app}'s settings to {@code budget_limit}, naming this node. */
    static void publishLimits(Certfleet app, String node) {
        try {
            new BudgetLimitStore(app.store()).record(limits(Issuance.pipelineSettings(app.settings()).budget()), node);
        } catch (RuntimeException e) {
            log.warn("history: cannot record the CA limits in budget_limit (v_budget shows none): {}", e.toString());
        }
    }
}
