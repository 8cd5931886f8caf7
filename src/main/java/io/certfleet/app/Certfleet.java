package io.certfleet.app;

import io.certfleet.config.LoadedSettings;
import io.certfleet.config.Settings;
import io.certfleet.store.Database;
import io.certfleet.store.DomainStore;
import io.certfleet.store.SecretBox;
import io.certfleet.store.SecretKeys;
import io.certfleet.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds every part from the settings, in order, and closes them in reverse. Commands and
 * the daemon get their parts from here and build nothing themselves.
 */
public final class Certfleet implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Certfleet.class);

    private final Settings settings;
    private final Database database;
    private final Store store;
    private final SecretBox secrets;
    private final DomainStore domains;
    private final java.util.Deque<NamedStep> stopSteps = new java.util.ArrayDeque<>();
    private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
    private boolean closing;
    private int firstSteps;

    /** A step of the ordered shutdown, named for its WARN line if it fails. */
    private record NamedStep(String name, AutoCloseable step) {
    }

    private Certfleet(Settings settings, Database database, Store store, SecretBox secrets) {
        this.settings = settings;
        this.database = database;
        this.store = store;
        this.secrets = secrets;
        this.domains = new DomainStore(store);
    }

    /**
     * Opens the database (starting or attaching to the embedded server), applies migrations, validates the
     * mapping and checks the secrets key.
     */
    public static Certfleet open(LoadedSettings loaded) {
        return open(loaded, false);
    }

    /**
     * As {@link #open(LoadedSettings)} for the daemon, which also logs the effective configuration (every key, its
     * value and where it came from, secrets masked) once at INFO before it starts anything, so an operator sees what
     * the running daemon was given. The other commands log it at DEBUG only, to keep their output quiet.
     */
    public static Certfleet openDaemon(LoadedSettings loaded) {
        return open(loaded, true);
    }

    private static Certfleet open(LoadedSettings loaded, boolean daemon) {
        Settings settings = loaded.settings();
        String dump = String.join("\n  ", loaded.maskedDump());
        if (daemon) {
            log.info("configuration (effective, secrets masked):\n  {}", dump);
        } else {
            log.debug("configuration (effective, secrets masked):\n  {}", dump);
        }
        loaded.warnings().forEach(w -> log.warn("configuration: {}", w));
        SecretBox secrets = SecretKeys.load(settings.secrets());
        Database db = Database.open(settings.database());
        try {
            db.migrate();
            Store store = Store.open(db.dataSource());
            try {
                SecretKeys.verifyAgainst(store, secrets, SecretKeys.source(settings.secrets()));
                // an interrupted command (Ctrl-C) still stops the embedded server it started
                return new Certfleet(settings, db, store, secrets).closeOnJvmExit();
            } catch (RuntimeException e) {
                store.close();
                throw e;
            }
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    public Settings settings() {
        return settings;
    }

    public Database database() {
        return database;
    }

    public Store store() {
        return store;
    }

    public SecretBox secrets() {
        return secrets;
    }

    public DomainStore domains() {
        return domains;
    }

    /**
     * Registers a part to stop before the database closes. Parts stop in the reverse order of registration, so
     * register in start order: what starts last (taking work) stops first.
     */
    public synchronized void onStop(String name, AutoCloseable step) {
        stopSteps.push(new NamedStep(name, step));
    }

    private synchronized NamedStep nextStopStep() {
        if (firstSteps > 0) {
            firstSteps--;
            return stopSteps.removeLast();
        }
        return stopSteps.pop();
    }

    /**
     * Registers what takes work in (the scheduler): it stops before every part registered with
     * {@link #onStop}, whenever those were registered, so no new work starts while the parts shut down.
     */
    public synchronized void onStopFirst(String name, AutoCloseable step) {
        stopSteps.addLast(new NamedStep(name, step));
        firstSteps++;
    }

    /** Closes everything when the JVM is asked to stop (SIGTERM, SIGINT, System.exit). */
    public Certfleet closeOnJvmExit() {
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, "certfleet-shutdown"));
        return this;
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /** Stops the registered parts in order, then the session factory, then the pool and database. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
        }
        try {
            while (!stopSteps.isEmpty()) {
                NamedStep s = nextStopStep();
                long t0 = System.nanoTime();
                try {
                    s.step().close();
                    log.info("shutdown: {} stopped ({} ms)", s.name(), (System.nanoTime() - t0) / 1_000_000);
                } catch (Exception e) {
                    log.warn("shutdown: stopping {} failed: {}", s.name(), e.toString());
                }
            }
            try {
                store.close();
            } catch (RuntimeException e) {
                log.warn("shutdown: closing the Hibernate session factory failed: {}", e.toString());
            }
            try {
                database.close();
            } catch (RuntimeException e) {
                log.warn("shutdown: closing the database failed: {}", e.toString());
            }
        } finally {
            closed.countDown();
        }
    }
}
