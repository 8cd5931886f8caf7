package io.certfleet.app;

import io.certfleet.acme.CaException;
import io.certfleet.schedule.CertfleetScheduler;
import io.certfleet.schedule.NightlyWindow;
import io.certfleet.store.HistoryStore;
import io.certfleet.store.HousekeepingStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;

/**
 * The long-running daemon: the HTTP-01 responder, and on the clustered scheduler the nightly admission (cron
 * {@code schedule.cron}; new orders start only within {@code schedule.window} of it), a frequent job that advances in-flight batches, and housekeeping. It starts even when
 * the CA is unreachable: the jobs connect on their next firing. It stops in order when the JVM is asked to
 * (SIGTERM): stop taking work, finish running steps, stop the responder, close the pool and the database.
 */
public final class Daemon {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);
    static final Duration STEP_BUDGET = Duration.ofSeconds(50);

    private final Certfleet app;
    private final Clock clock;
    private Issuance.Responder responder;
    private Issuance issuance;
    private io.certfleet.ops.FleetMetrics metrics;
    private volatile boolean schedulerUp;
    private volatile boolean secretsKeyCurrent = true;

    public Daemon(Certfleet app, Clock clock) {
        this.app = app;
        this.clock = clock;
    }

    /** Starts everything and returns; {@link Certfleet#close()} stops it. */
    public void start() {
        var status = new io.certfleet.store.StatusStore(app.store());
        var limits = app.settings().pipeline();
        metrics = new io.certfleet.ops.FleetMetrics(status::snapshot, clock, Duration.ofSeconds(15), java.util.Map.of(
                io.certfleet.model.CaEnvironment.PRODUCTION, limits.productionOrdersPer3h(),
                io.certfleet.model.CaEnvironment.STAGING, limits.stagingOrdersPer3h()));
        try {
            var ops = io.certfleet.ops.OpsServer.start(app.settings().ops().bind(), app.settings().ops().port(),
                    java.util.Map.of("database", status::databaseUp, "scheduler", () -> schedulerUp,
                            "secrets key", this::secretsKeyStillCurrent), metrics::scrape);
            app.onStop("ops endpoint", ops);
        } catch (java.io.IOException e) {
            throw new io.certfleet.config.ConfigException("ops.port", "cannot listen on " + app.settings().ops().bind()
                    + ":" + app.settings().ops().port() + ": " + e.getMessage(), e);
        }
        responder = Issuance.startResponder(app, clock);
        CertfleetScheduler scheduler = CertfleetScheduler.create(app.database().dataSource(), 4);
        app.onStopFirst("scheduler", scheduler);
        RunLog.publishLimits(app, Issuance.nodeName());
        scheduler.scheduleCron("housekeeping", "0 */15 * * * ?", ZoneOffset.UTC,
                new Housekeeping(new HousekeepingStore(app.store()), new HistoryStore(app.store()), clock));
        scheduler.scheduleCron("issuance-nightly", app.settings().schedule().cron(), app.settings().schedule().timeZone(),
                () -> issuance().ifPresent(Issuance::admitNightly));
        scheduler.scheduleCron("pipeline-step", "0/10 * * * * ?", ZoneOffset.UTC, this::stepBatches);
        scheduler.scheduleCron("renewal-scan", "0 5 * * * ?", ZoneOffset.UTC,
                () -> issuance().ifPresent(i -> i.pipeline().queueRenewals()));
        scheduler.start();
        schedulerUp = true;
        app.onStopFirst("readiness", () -> schedulerUp = false);
    }

    /** Advances due batches for up to {@link #STEP_BUDGET}, then yields to the next firing. */
    private void stepBatches() {
        Optional<Issuance> i = issuance();
        if (i.isEmpty()) {
            return;
        }
        // a node on this host that was killed holds leases until they expire; free them now (cheap: one query).
        // This job never runs twice at once (and nothing else in the daemon leases batches), so none of this node's
        // steps runs now: a lease of its own that a step could not release (the database was away) is free too.
        i.get().pipeline().recoverLeases();
        i.get().pipeline().releaseOwnLeases();
        Instant until = clock.instant().plus(STEP_BUDGET);
        while (clock.instant().isBefore(until) && i.get().pipeline().stepDue() > 0) {
            // keep stepping while batches are due; a batch that waits for the CA has a not_before in the future
        }
    }

    /**
     * The CA connection, made on first use and retried at each firing while the CA is unreachable; empty while
     * this node's secrets key is no longer the database's.
     */
    private synchronized Optional<Issuance> issuance() {
        if (!secretsKeyStillCurrent()) {
            return Optional.empty();
        }
        if (issuance == null) {
            try {
                var schedule = app.settings().schedule();
                issuance = Issuance.start(app, clock, responder, java.util.function.UnaryOperator.identity(), metrics,
                        new NightlyWindow(schedule.cron(), schedule.timeZone(), schedule.window()));
                issuance.pipeline().recoverLeases();
            } catch (CaException | RuntimeException e) {
                log.warn("daemon: cannot reach the CA yet ({}); retrying at the next firing", e.getMessage());
                return Optional.empty();
            }
        }
        return Optional.of(issuance);
    }

    /**
     * False once {@code certfleet keys rotate} replaced the key this node started with: the node then stops
     * issuing (it could read no stored key and store none), says so once at ERROR and on {@code /readyz}, and
     * keeps answering HTTP-01 challenges until it is restarted with the new key.
     */
    private boolean secretsKeyStillCurrent() {
        boolean current;
        try {
            current = io.certfleet.store.SecretKeys.isCurrent(app.store(), app.secrets());
        } catch (RuntimeException e) {
            return secretsKeyCurrent; // the database is unreachable: the job fails on its own and says why
        }
        if (!current && secretsKeyCurrent) {
            log.error("daemon: the secrets key this node started with (fingerprint {}) was replaced by 'certfleet keys "
                    + "rotate'; this node stops issuing. {} and restart it", app.secrets().fingerprint(),
                    io.certfleet.store.SecretKeys.howToSwitch(io.certfleet.store.SecretKeys.source(app.settings().secrets())));
        } else if (current && !secretsKeyCurrent) {
            log.info("daemon: the secrets key is the database's again; issuing resumes");
        }
        secretsKeyCurrent = current;
        return current;
    }

    /** Runs until the JVM is asked to stop. */
    public static void runUntilStopped(Certfleet app, long startNanos) throws InterruptedException {
        new Daemon(app, Clock.systemUTC()).start();
        log.info("daemon: ready in {} ms (database {}, pid {})", (System.nanoTime() - startNanos) / 1_000_000,
                app.database().jdbcUrl(), ProcessHandle.current().pid());
        app.awaitClosed();
        log.info("daemon: stopped");
    }
}
