package io.certfleet.app;

import io.certfleet.schedule.CertfleetScheduler;
import io.certfleet.store.HousekeepingStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.ZoneOffset;

/**
 * The long-running daemon: starts the scheduler and its jobs on an open {@link Certfleet}, logs readiness, and
 * stops in order when the JVM is asked to (SIGTERM): stop taking work, finish running jobs, stop the scheduler,
 * close the pool and the database.
 */
public final class Daemon {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);

    private final Certfleet app;
    private final Clock clock;

    public Daemon(Certfleet app, Clock clock) {
        this.app = app;
        this.clock = clock;
    }

    /** Starts everything and returns; {@link Certfleet#close()} stops it. */
    public void start() {
        CertfleetScheduler scheduler = CertfleetScheduler.create(app.database().dataSource(), 4);
        app.onStop("scheduler", scheduler);
        scheduler.scheduleCron("housekeeping", "0 */15 * * * ?", ZoneOffset.UTC,
                new Housekeeping(new HousekeepingStore(app.store()), clock));
        scheduler.start();
    }

    /** Runs until the JVM is asked to stop. */
    public static void runUntilStopped(Certfleet app, long startNanos) throws InterruptedException {
        app.closeOnJvmExit();
        new Daemon(app, Clock.systemUTC()).start();
        log.info("daemon: ready in {} ms (database {}, pid {})", (System.nanoTime() - startNanos) / 1_000_000,
                app.database().jdbcUrl(), ProcessHandle.current().pid());
        app.awaitClosed();
        log.info("daemon: stopped");
    }
}
