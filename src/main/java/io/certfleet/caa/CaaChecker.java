package io.certfleet.caa;

import io.certfleet.model.DomainName;
import io.certfleet.model.InvalidDomainNameException;
import io.certfleet.model.PrecheckEvidence;
import io.certfleet.model.PrecheckReason;
import io.certfleet.model.PrecheckResult;
import io.certfleet.model.PrecheckRun;
import io.certfleet.model.PrecheckVerdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import com.google.common.net.InternetDomainName;
import org.xbill.DNS.ResolverConfig;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Predicts Let's Encrypt's CAA verdict for many names at once, with Boulder's rules. Build one from
 * {@link CaaSettings} and keep it: it owns the DNS client and a small executor. Each {@link #check} is a run with its
 * own answer cache, so parents shared by many names are asked once per run and never served stale to a later run.
 *
 * <p>Thread-safe; runs may overlap.
 */
public final class CaaChecker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CaaChecker.class);

    private final CaaSettings settings;
    private final ExecutorService executor;
    private final DnsClient client;
    private final CaaPolicy policy;
    private final Optional<CaaPolicy> rehearsalPolicy;
    private final List<String> resolverLabels;

    private CaaChecker(CaaSettings settings, List<InetSocketAddress> resolvers) throws IOException {
        this.settings = settings;
        int threads = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
        AtomicInteger n = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, "caa-dns-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.client = new DnsClient(resolvers, settings.perTryTimeout(), settings.tries(), settings.dnssecAnchor(),
                executor);
        this.policy = new CaaPolicy(new LinkedHashSet<>(settings.caIdentities()), settings.accountUri(),
                settings.validationMethod());
        this.rehearsalPolicy = settings.rehearsalAccountUri().map(u -> policy.forAccount(Optional.of(u)));
        this.resolverLabels = resolvers.stream().map(DnsClient::label).toList();
    }

    /**
     * Builds a checker.
     *
     * @throws IOException when the DNSSEC trust-anchor file cannot be read, a resolver host does not resolve, or
     *                     no system resolver is configured; the message names the setting
     */
    public static CaaChecker create(CaaSettings settings) throws IOException {
        List<InetSocketAddress> resolvers = new ArrayList<>();
        if (settings.resolvers().isEmpty()) {
            resolvers.addAll(ResolverConfig.getCurrentConfig().servers());
            if (resolvers.isEmpty()) {
                throw new IOException("precheck.resolvers is empty and the system has no DNS resolver configured");
            }
        }
        for (String r : settings.resolvers()) {
            CaaSettings.HostPort hp = CaaSettings.parseHostPort(r, 53);
            try {
                resolvers.add(new InetSocketAddress(InetAddress.getByName(hp.host()), hp.port()));
            } catch (UnknownHostException e) {
                throw new IOException("precheck.resolvers: cannot resolve resolver host '" + hp.host() + "'", e);
            }
        }
        try {
            return new CaaChecker(settings, resolvers);
        } catch (IOException e) {
            throw new IOException("precheck.dnssec-anchor: cannot load trust anchors from "
                    + settings.dnssecAnchor().map(Object::toString).orElse("?") + ": " + e.getMessage(), e);
        }
    }

    public CaaSettings settings() {
        return settings;
    }

    /** The resolvers in use, {@code ip:port}. */
    public List<String> resolvers() {
        return resolverLabels;
    }

    /** {@link #check(List, ProgressListener)} without progress reports. */
    public PrecheckRun check(List<String> inputs) {
        return check(inputs, ProgressListener.NONE);
    }

    /**
     * Checks every input and returns one result per input, in input order. Invalid inputs are blocked with
     * {@link PrecheckReason#INVALID_NAME} without a query. Blocks the calling thread until the run is done; at most
     * {@code concurrency} names are in flight at once.
     *
     * <p>When the run is degraded ({@link PrecheckRun#degraded()}), names whose outcome could be our resolver's
     * fault get {@link PrecheckReason#RESOLVER_DEGRADED} (verdict at-risk): keep them pending.
     */
    public PrecheckRun check(List<String> inputs, ProgressListener listener) {
        return check(inputs, listener, true);
    }

    /**
     * {@link #check(List, ProgressListener)}, saying whether the names will be rehearsed (with
     * {@link CaaSettings#rehearsalAccountUri()}, when set) or only ordered with the main account, as in the recheck
     * just before a production finalize.
     */
    public PrecheckRun check(List<String> inputs, ProgressListener listener, boolean rehearsed) {
        long start = System.nanoTime();
        RunCache cache = new RunCache(client);
        NameserverSweep sweep = new NameserverSweep(client, cache, settings.nameserverPort());
        boolean anyValid = inputs.stream().anyMatch(CaaChecker::valid);
        Optional<String> canaryFailure = anyValid ? canary(cache) : Optional.empty();
        canaryFailure.ifPresent(f -> LOG.warn("caa: resolver canary failed, run is degraded: {}", f));

        PrecheckResult[] results = new PrecheckResult[inputs.size()];
        Semaphore inFlight = new Semaphore(settings.concurrency());
        AtomicInteger done = new AtomicInteger();
        AtomicInteger blocked = new AtomicInteger();
        AtomicInteger atRisk = new AtomicInteger();
        Runnable progress = () -> {
            int d = done.incrementAndGet();
            Duration el = Duration.ofNanos(System.nanoTime() - start);
            double rate = d / Math.max(1e-3, el.toNanos() / 1e9);
            listener.onProgress(new ProgressListener.Progress(d, inputs.size(), blocked.get(), atRisk.get(), rate,
                    el));
        };
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String input = inputs.get(i);
            int idx = i;
            DomainName dn;
            try {
                dn = DomainName.parse(input);
            } catch (InvalidDomainNameException e) {
                results[idx] = PrecheckResult.of(input == null ? "" : input, Optional.empty(),
                        PrecheckReason.INVALID_NAME, Optional.empty(), "Not checked: " + e.getMessage()
                                + ". The CA would reject this identifier.", PrecheckEvidence.NONE, 0);
                blocked.incrementAndGet();
                progress.run();
                continue;
            }
            if (canaryFailure.isPresent()) {
                results[idx] = PrecheckResult.of(input, Optional.of(dn), PrecheckReason.RESOLVER_DEGRADED,
                        Optional.empty(), Details.degraded("canary lookup failed: " + canaryFailure.get(),
                                "none, no query was made"), PrecheckEvidence.NONE, 0);
                atRisk.incrementAndGet();
                progress.run();
                continue;
            }
            inFlight.acquireUninterruptibly();
            long nameStart = System.nanoTime();
            CompletableFuture<Void> f = checkName(input, dn, cache, sweep, nameStart, rehearsed)
                    .exceptionally(t -> internalError(input, dn, t, nameStart))
                    .thenAccept(r -> {
                        results[idx] = r;
                        if (r.verdict() == PrecheckVerdict.BLOCKED) {
                            blocked.incrementAndGet();
                        } else if (r.verdict() == PrecheckVerdict.AT_RISK) {
                            atRisk.incrementAndGet();
                        }
                    })
                    .whenComplete((v, t) -> {
                        inFlight.release();
                        progress.run();
                    });
            pending.add(f);
            if (pending.size() >= 4096) {
                pending.removeIf(CompletableFuture::isDone);
            }
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
        List<PrecheckResult> list = List.of(results);
        Optional<String> degraded = canaryFailure.map(f -> "canary lookup failed: " + f);
        if (degraded.isEmpty()) {
            // a resolver that stops answering gives timeouts; one whose upstream broke answers SERVFAIL (or REFUSED)
            // to everything: either way, when most names fail alike, the failure is ours, not the names'
            for (Set<PrecheckReason> kind : RESOLVER_FAILURES) {
                Optional<String> share = failureShare(list, kind);
                if (share.isPresent()) {
                    String why = share.get();
                    LOG.warn("caa: run is degraded: {}", why);
                    list = list.stream().map(r -> kind.contains(r.reason()) ? demote(r, why) : r).toList();
                    degraded = Optional.of(degraded.map(d -> d + "; ").orElse("") + why);
                }
            }
        }
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        LOG.info("caa: checked {} names in {} ms ({} answers cached)", inputs.size(), elapsed, cache.size());
        return new PrecheckRun(list, degraded.isPresent(), degraded, elapsed);
    }

    private CompletableFuture<PrecheckResult> checkName(String input, DomainName dn, RunCache cache,
                                                        NameserverSweep sweep, long start, boolean rehearsed) {
        List<String> levels = dn.selfAndParents();
        List<CompletableFuture<LevelAnswer>> fs = levels.stream().map(cache::caa).toList();
        return CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).thenCompose(v -> {
            List<LevelAnswer> answers = fs.stream().map(CompletableFuture::join).toList();
            Decision d = decide(dn, answers, rehearsed);
            if (!settings.sweep() || d.reason().verdict() != PrecheckVerdict.ALLOWED) {
                return CompletableFuture.completedFuture(d.toResult(input, dn, start));
            }
            int upTo = d.level().map(levels::indexOf).orElse(levels.size() - 1);
            return sweep.sweep(levels.subList(0, upTo + 1)).thenApply(f -> {
                PrecheckEvidence ev = d.evidence().withNameservers(f.answers());
                if (f.problem().isEmpty()) {
                    return new Decision(d.reason(), d.level(), d.detail(), ev).toResult(input, dn, start);
                }
                String detail = Details.sweep(dn, f.problem().get(), d.detail(), f.bad());
                return new Decision(f.problem().get(), d.level(), detail, ev).toResult(input, dn, start);
            });
        });
    }

    record Decision(PrecheckReason reason, Optional<String> level, String detail, PrecheckEvidence evidence) {
        PrecheckResult toResult(String input, DomainName dn, long start) {
            return PrecheckResult.of(input, Optional.of(dn), reason, level, detail, evidence,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        }
    }

    /** selectCAA, then the record rules, for answers ordered from the name to its TLD. Pure. */
    Decision decide(DomainName dn, List<LevelAnswer> answers, boolean rehearsed) {
        Decision d = decide(policy, settings.caIdentities(), dn, answers);
        if (!rehearsed || rehearsalPolicy.isEmpty() || d.reason().verdict() != PrecheckVerdict.ALLOWED || d.level().isEmpty()) {
            return d;
        }
        // the same records, for the staging account that rehearses the order first: only accounturi can differ
        Decision staging = decide(rehearsalPolicy.get(), settings.caIdentities(), dn, answers);
        if (staging.reason().verdict() == PrecheckVerdict.ALLOWED) {
            return d;
        }
        return new Decision(staging.reason(), staging.level(), Details.rehearsalBlocked(dn,
                settings.rehearsalAccountUri().orElseThrow(), staging.detail()), staging.evidence());
    }

    static Decision decide(CaaPolicy policy, List<String> ids, DomainName dn, List<LevelAnswer> answers) {
        Optional<CaaSelection.Selected> sel = CaaSelection.select(answers);
        if (sel.isEmpty()) {
            return new Decision(PrecheckReason.NO_CAA, Optional.empty(), Details.noCaa(dn),
                    answers.get(0).evidence());
        }
        LevelAnswer a = sel.get().answer();
        if (a.isFailed()) {
            return new Decision(a.failure().orElseThrow(), Optional.of(a.name()), Details.failure(dn, a),
                    a.evidence());
        }
        CaaPolicy.Evaluation e = policy.evaluate(a.caa(), dn.wildcard());
        return new Decision(e.reason(), Optional.of(a.name()), Details.evaluated(dn, a.name(), e, ids),
                a.evidence());
    }

    private static boolean valid(String input) {
        try {
            DomainName.parse(input);
            return true;
        } catch (InvalidDomainNameException e) {
            return false;
        }
    }

    private Optional<String> canary(RunCache cache) {
        List<String> failures = new ArrayList<>();
        List<CompletableFuture<LevelAnswer>> fs = settings.canaryNames().stream().map(cache::caa).toList();
        for (CompletableFuture<LevelAnswer> f : fs) {
            LevelAnswer a = f.join();
            if (a.isFailed()) {
                failures.add(a.name() + " (CAA): " + a.failureText() + " [" + a.server().orElse("?") + "]");
            }
        }
        return failures.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", failures));
    }

    /**
     * Failures that, when most names of a run share them across many unrelated domains, come from our side (the
     * resolver, or a network that cannot reach nameservers directly) rather than from the names.
     */
    private static final List<Set<PrecheckReason>> RESOLVER_FAILURES = List.of(
            EnumSet.of(PrecheckReason.DNS_TIMEOUT), EnumSet.of(PrecheckReason.DNS_SERVFAIL, PrecheckReason.DNS_REFUSED),
            EnumSet.of(PrecheckReason.NS_PARTIAL_FAILURE));

    private Optional<String> failureShare(List<PrecheckResult> results, Set<PrecheckReason> kind) {
        long checked = results.stream().filter(r -> r.reason() != PrecheckReason.INVALID_NAME).count();
        List<PrecheckResult> failed = results.stream().filter(r -> kind.contains(r.reason())).toList();
        // 50 names under one customer's dead zone are that customer's problem; failures spread over many
        // unrelated registered domains at once are ours
        long domains = failed.stream().map(CaaChecker::registeredDomainOfFailure).distinct().count();
        if (domains >= settings.degradedMinCount() && failed.size() > settings.degradedShare() * checked) {
            String what = kind.contains(PrecheckReason.DNS_TIMEOUT) ? "timed out"
                    : kind.contains(PrecheckReason.NS_PARTIAL_FAILURE)
                    ? "had authoritative nameservers fail when asked directly (the sweep); if this host cannot"
                    + " reach nameservers directly (firewall, no IPv6 route), set precheck.sweep=false,"
                    : "got SERVFAIL or REFUSED";
            return Optional.of(failed.size() + " of " + checked + " names " + what + " under " + domains
                    + " registered domains (more than " + Math.round(settings.degradedShare() * 100) + "% of the"
                    + " names, under at least " + settings.degradedMinCount() + " domains)");
        }
        return Optional.empty();
    }

    /**
     * The registered domain (Public Suffix List) of the level where a name's check failed, or of the name; under
     * a suffix the list does not know (test TLDs), the last two labels.
     */
    static String registeredDomainOfFailure(PrecheckResult r) {
        String level = r.level().orElse(r.name().map(DomainName::name).orElse(r.input()));
        try {
            InternetDomainName d = InternetDomainName.from(level);
            if (d.isUnderPublicSuffix()) {
                return d.topPrivateDomain().toString();
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            // fall through to the label rule
        }
        String[] labels = level.split("\\.");
        return labels.length <= 2 ? level
                : labels[labels.length - 2] + "." + labels[labels.length - 1];
    }

    private static PrecheckResult demote(PrecheckResult r, String why) {
        return PrecheckResult.of(r.input(), r.name(), PrecheckReason.RESOLVER_DEGRADED, r.level(),
                Details.degraded(why, r.detail()), r.evidence(), r.elapsedMs());
    }

    private PrecheckResult internalError(String input, DomainName dn, Throwable t, long start) {
        LOG.error("caa: {}: internal error during the CAA check", dn.identifier(), t);
        return PrecheckResult.of(input, Optional.of(dn), PrecheckReason.DNS_OTHER, Optional.empty(),
                "CAA check for " + dn.identifier() + " failed inside certfleet (" + t + "); this is our bug, not"
                        + " the customer's DNS.", PrecheckEvidence.NONE,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    @Override
    public void close() {
        client.close();
        executor.shutdown();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("caa: DNS executor did not stop within 5 s; forcing it");
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
