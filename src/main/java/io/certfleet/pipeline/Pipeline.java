package io.certfleet.pipeline;

import io.certfleet.acme.Keys;
import io.certfleet.challenge.ChallengePublisher;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.PrecheckRun;
import io.certfleet.store.BatchStore;
import io.certfleet.store.CertificateStore;
import io.certfleet.store.LedgerStore;
import io.certfleet.store.LimitStore;
import io.certfleet.store.PrecheckStore;
import io.certfleet.store.ReportStore;
import io.certfleet.store.SecretBox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The issuance pipeline: admission (fresh-skip, pre-check, packing), then batches stepped through staging
 * rehearsal, isolation and production promotion. {@link #stepDue()} is one unit of work for a scheduler;
 * {@link #runOnce(Duration)} is the whole cycle on demand.
 */
public final class Pipeline implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);
    static final Duration LEASE = Duration.ofMinutes(2);
    static final Duration DATABASE_RETRY = Duration.ofSeconds(3);

    private final BatchStore batches;
    private final ReportStore reports;
    private final CertificateStore certificates;
    private final PrecheckStore precheckStore;
    private final Admission admission;
    private final BatchStepper stepper;
    private final Map<CaEnvironment, CaSession> sessions;
    private final PipelineSettings settings;
    private final Clock clock;
    private final String node;
    private final ExecutorService stepPool;
    private final ExecutorService acmePool;

    public Pipeline(BatchStore batches, CertificateStore certificates, PrecheckStore precheckStore, ReportStore reports,
                    Map<CaEnvironment, CaSession> sessions, ChallengePublisher publisher, Prechecker prechecker,
                    PipelineSettings settings, Keys.Type keyType, Clock clock, String node) {
        this.batches = batches;
        this.reports = reports;
        this.certificates = certificates;
        this.precheckStore = precheckStore;
        this.sessions = Map.copyOf(sessions);
        this.settings = settings;
        this.clock = clock;
        this.node = node;
        this.stepPool = Executors.newFixedThreadPool(settings.parallelBatches(), daemonThreads("certfleet-step"));
        // several acme4j sessions work each order's authorizations in parallel (a session makes one call at a time)
        this.acmePool = Executors.newFixedThreadPool(4 * settings.parallelBatches(), daemonThreads("certfleet-acme"));
        LedgerStore ledger = new LedgerStore(precheckStore.store());
        LimitGuard guard = new LimitGuard(ledger, new LimitStore(precheckStore.store()), settings);
        this.admission = new Admission(precheckStore, batches, ledger, guard, prechecker, settings, clock);
        this.stepper = new BatchStepper(batches, certificates, precheckStore, this.sessions, publisher, prechecker,
                settings, keyType, clock, acmePool, guard, new LimitStore(precheckStore.store()));
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String name) {
        var n = new java.util.concurrent.atomic.AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Frees leases of dead processes on this host (node names are {@code host:pid}), so a restarted node resumes
     * a killed node's batches at once. Leases of other hosts expire by themselves after {@link #LEASE}.
     */
    public int recoverLeases() {
        String host = node.substring(0, node.lastIndexOf(':') + 1);
        int n = batches.releaseLeasesOf(owner -> {
            if (!owner.startsWith(host) || owner.equals(node)) {
                return false;
            }
            try {
                long pid = Long.parseLong(owner.substring(host.length()));
                return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
            } catch (NumberFormatException e) {
                return false;
            }
        });
        if (n > 0) {
            log.info("pipeline: released {} lease(s) of stopped processes on this host", n);
        }
        return n;
    }

    /**
     * Frees this node's own leases. Call it only while none of this process's steps runs (between {@link #stepDue()}
     * calls of one caller): a step whose release failed because the database was away at that moment would
     * otherwise hold its batch until the lease ran out ({@link #LEASE}).
     */
    public int releaseOwnLeases() {
        int n = batches.releaseLeasesOf(node::equals);
        if (n > 0) {
            log.info("pipeline: released {} lease(s) of this node that a failed release had left", n);
        }
        return n;
    }

    /** Queues the names of certificates whose renewal time has come; returns how many. */
    public int queueRenewals() {
        int n = certificates.queueDueRenewals(clock.instant());
        if (n > 0) {
            log.info("renewal: {} name(s) of certificates due for renewal are queued", n);
        }
        return n;
    }

    /**
     * What the next run would do, without contacting any CA or DNS server and without writing anything.
     *
     * @param productionAccountId the stored production account (its validations decide what is fresh)
     * @param stagingAccountId    the stored staging account (its ledger counts against staging's limits)
     * @param productionAri       the production CA offered ARI when certfleet last connected
     */
    public static Plan plan(PrecheckStore precheckStore, BatchStore batches, PipelineSettings settings, Clock clock,
                            Optional<Long> productionAccountId, Optional<Long> stagingAccountId, boolean productionAri) {
        Prechecker none = new Prechecker() {
            @Override
            public PrecheckRun check(List<String> ids, CaEnvironment env) {
                throw new IllegalStateException("a plan does not pre-check");
            }

            @Override
            public PrecheckRun recheck(List<String> ids, CaEnvironment env) {
                return check(ids, env);
            }
        };
        LedgerStore ledger = new LedgerStore(precheckStore.store());
        LimitGuard guard = new LimitGuard(ledger, new LimitStore(precheckStore.store()), settings);
        return new Admission(precheckStore, batches, ledger, guard, none, settings, clock)
                .plan(new LimitGuard.AccountIds(stagingAccountId, productionAccountId, productionAri));
    }

    /**
     * Admits due names into new batches. Only one node of a cluster admits at a time (an advisory lock); a node
     * that finds another admitting skips admission and steps the batches that one creates.
     */
    public Admission.Report admit() {
        Optional<CaSession> production = Optional.ofNullable(sessions.get(CaEnvironment.PRODUCTION));
        LimitGuard.AccountIds accounts = new LimitGuard.AccountIds(
                Optional.ofNullable(sessions.get(CaEnvironment.STAGING)).map(CaSession::accountId),
                production.map(CaSession::accountId), production.map(CaSession::renewalInfo).orElse(false));
        return precheckStore.store().exclusively("certfleet-admission", () -> admission.admit(accounts))
                .orElseGet(() -> {
                    log.info("admission: another node is admitting; this one only steps batches");
                    return new Admission.Report(0, 0, 0, 0, Map.of(), false, 0, 0);
                });
    }

    /** Leases the batches that are due and advances each by one step, in parallel; returns how many were stepped. */
    public int stepDue() {
        List<Long> due = batches.claimDue(clock.instant(), node, LEASE, settings.parallelBatches());
        List<Future<?>> running = new ArrayList<>();
        for (long id : due) {
            running.add(stepPool.submit(() -> stepSafely(id)));
        }
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return due.size();
            } catch (ExecutionException e) {
                log.error("pipeline: a step failed unexpectedly", e.getCause());
            }
        }
        return due.size();
    }

    private void stepSafely(long id) {
        try {
            stepper.step(id);
        } catch (SecretBox.WrongKeyException e) {
            // the secrets key was rotated while this node ran: not the batch's fault, and a node with the new key
            // can do the step; no failure is counted
            log.error("batch {}: step not done, this node's secrets key was replaced: {}", id, e.getMessage());
            try {
                batches.waitUntil(id, clock.instant().plus(settings.caBackoff()), "SECRETS_KEY_REPLACED",
                        e.getMessage());
            } catch (RuntimeException again) {
                log.error("batch {}: could not record the wait", id, again);
            }
        } catch (RuntimeException e) {
            // a database that went away (restart, failover) is usually back in seconds: retry soon, not after the
            // CA backoff; the step's transaction rolled back, so it simply runs again
            Duration retry = databaseUnavailable(e) ? DATABASE_RETRY : settings.caBackoff();
            log.error("batch {}: step failed; it is retried in {}", id, retry, e);
            try {
                batches.defer(id, clock.instant().plus(retry), e.getClass().getSimpleName(),
                        String.valueOf(e.getMessage()));
            } catch (RuntimeException again) {
                log.error("batch {}: could not record the failure", id, again);
            }
        } finally {
            try {
                batches.release(id, node);
            } catch (RuntimeException e) {
                log.warn("batch {}: releasing the lease failed (it expires by itself): {}", id, e.toString());
            }
        }
    }

    /**
     * True when the failure is the database connection's (SQLState class 08, connection exception, or 57P, the
     * server shutting down), found anywhere in the cause chain.
     */
    static boolean databaseUnavailable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.sql.SQLTransientConnectionException) {
                return true;
            }
            if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * One full cycle: admit, then step batches until none is open, none can move before {@code maxDuration} has
     * passed, or it has passed (open batches then continue at the next cycle, from their stored URLs).
     */
    public CycleSummary runOnce(Duration maxDuration) throws InterruptedException {
        Instant start = clock.instant();
        Instant deadline = start.plus(maxDuration);
        recoverLeases();
        queueRenewals();
        Admission.Report admitted = admit();
        while (clock.instant().isBefore(deadline)) {
            long waitMs;
            try {
                int stepped = stepDue();
                // every step of this process has ended; a lease one of them could not release (the database was
                // away at that moment) would otherwise hold its batch for the whole lease
                releaseOwnLeases();
                if (stepped > 0) {
                    continue;
                }
                Optional<Instant> next = batches.nextDue();
                if (next.isEmpty() || !next.get().isBefore(deadline)) {
                    // nothing is open, or nothing can move before the deadline (a backoff, a CA's Retry-After, a
                    // closed window): end now rather than sleep to the deadline; the batches wait in the database
                    break;
                }
                recoverLeases(); // a node of this host that died mid-step leaves its batches to us at once
                waitMs = Math.max(50, Math.min(1000, Duration.between(clock.instant(), next.get()).toMillis()));
            } catch (RuntimeException e) {
                if (!databaseUnavailable(e)) {
                    throw e;
                }
                // the database went away (restart, failover): wait for it instead of ending the run
                log.warn("cycle: the database is unavailable ({}); trying again in {}", e.getMessage(), DATABASE_RETRY);
                waitMs = DATABASE_RETRY.toMillis();
            }
            Thread.sleep(Math.min(waitMs, Math.max(1, Duration.between(clock.instant(), deadline).toMillis())));
        }
        ReportStore.RunStats s = reports.since(start);
        var summary = new CycleSummary(s.namesIssued(), s.quarantinedByReason(), s.heldByReason(), admitted.fresh(),
                admitted.checked(), admitted.degraded(), s.stagingOrders(), s.productionOrders(), s.certificates(),
                s.pending(), s.openBatches(), Duration.between(start, clock.instant()));
        log.info("cycle: {} names issued in {} certificate(s); {} staging and {} production orders; quarantined {}; "
                        + "held {}; {} open batch(es) left; {} s", summary.namesIssued(), summary.certificatesWritten(),
                summary.stagingOrders(), summary.productionOrders(), summary.quarantinedByReason(),
                summary.heldByReason(), summary.openBatchesLeft(), summary.elapsed().toSeconds());
        return summary;
    }

    @Override
    public void close() {
        stepPool.shutdown();
        acmePool.shutdown();
        try {
            if (!stepPool.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("shutdown: pipeline steps did not finish in 30 s; their batches resume from stored URLs");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        acmePool.shutdownNow();
    }
}
