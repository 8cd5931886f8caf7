package io.certfleet.pipeline;

import io.certfleet.acme.AuthorizationState;
import io.certfleet.acme.CaException;
import io.certfleet.acme.CaRateLimitedException;
import io.certfleet.acme.CaRejectedException;
import io.certfleet.acme.CaStatus;
import io.certfleet.acme.CaUnavailableException;
import io.certfleet.acme.Http01Proof;
import io.certfleet.acme.IssuedCertificate;
import io.certfleet.acme.Keys;
import io.certfleet.acme.OrderState;
import io.certfleet.acme.ProblemAttribution;
import io.certfleet.acme.RenewalIds;
import io.certfleet.batch.RenewalTiming;
import io.certfleet.challenge.ChallengePublisher;
import io.certfleet.model.Batch;
import io.certfleet.model.BatchMember;
import io.certfleet.model.BatchState;
import io.certfleet.model.BatchTransition;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.Http01Token;
import io.certfleet.model.PrecheckResult;
import io.certfleet.model.PrecheckRun;
import io.certfleet.model.PrecheckVerdict;
import io.certfleet.store.BatchStore;
import io.certfleet.store.CertificateStore;
import io.certfleet.store.LimitStore;
import io.certfleet.store.PrecheckStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URL;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Advances one batch by one step: place the order ({@link OrderPlacement}), publish and trigger challenges, poll,
 * finalize, download.
 * Each step reads the batch from the database, makes its ACME requests, and records the outcome in one
 * transaction; a killed process resumes from the stored URLs. Nothing here sleeps: a batch that must wait gets a
 * {@code not_before} time. Failures go to {@link Isolator}.
 */
final class BatchStepper {
    private static final Logger log = LoggerFactory.getLogger(BatchStepper.class);

    private final BatchStore batches;
    private final CertificateStore certificates;
    private final PrecheckStore precheckStore;
    private final Map<CaEnvironment, CaSession> sessions;
    private final ChallengePublisher publisher;
    private final Prechecker prechecker;
    private final PipelineSettings settings;
    private final Keys.Type keyType;
    private final Clock clock;
    private final ExecutorService acmeIo;
    private final Isolator isolator;
    private final LimitStore limits;
    private final OrderPlacement placement;
    private final Triggers triggers = new Triggers();

    BatchStepper(BatchStore batches, CertificateStore certificates, PrecheckStore precheckStore,
                 Map<CaEnvironment, CaSession> sessions, ChallengePublisher publisher, Prechecker prechecker,
                 PipelineSettings settings, Keys.Type keyType, Clock clock, ExecutorService io, LimitGuard guard,
                 LimitStore limits) {
        this.batches = batches;
        this.certificates = certificates;
        this.precheckStore = precheckStore;
        this.sessions = sessions;
        this.publisher = publisher;
        this.prechecker = prechecker;
        this.settings = settings;
        this.keyType = keyType;
        this.clock = clock;
        this.acmeIo = io;
        this.limits = limits;
        this.isolator = new Isolator(batches, certificates, guard, settings, clock);
        this.placement = new OrderPlacement(batches, certificates, guard, keyType, settings.orderWindow(),
                settings.maxNames(), clock);
    }

    void step(long batchId) {
        Batch b = batches.load(batchId);
        if (!b.state().isOpen()) {
            return;
        }
        CaSession ca = sessions.get(b.environment());
        try {
            switch (b.state()) {
                case PLANNED -> placement.order(b, ca);
                case ORDERED, AUTHORIZING -> authorize(b, ca);
                case FINALIZING -> complete(b, ca);
                default -> throw new IllegalStateException(b + " is not open");
            }
        } catch (CaRateLimitedException e) {
            isolator.rateLimited(b, ca, e);
        } catch (CaUnavailableException e) {
            isolator.caFault(b, ca, e, e.retryAfter());
        } catch (CaRejectedException e) {
            event(b, ca, e.request().name(), "rejected", e);
            isolator.rejected(b, e.blame().names(), e.problem());
        } catch (CaException e) {
            isolator.caFault(b, ca, e, Optional.empty());
        }
    }

    private void authorize(Batch b, CaSession ca) throws CaException {
        OrderState o = ca.account().fetchOrder(Accounts.url(b.orderUrl().orElseThrow()));
        switch (o.status()) {
            case READY -> {
                recordValidations(b, ca, o);
                finalizeOrder(b, ca, o);
            }
            case VALID, PROCESSING -> {
                recordValidations(b, ca, o);
                batches.advance(b.id(), BatchState.FINALIZING, Optional.empty());
            }
            case PENDING -> pollAuthorizations(b, ca, o);
            default -> failedOrder(b, ca, o);
        }
    }

    /** One authorization's outcome from a parallel fetch (and trigger). */
    private record AuthzResult(AuthorizationState state, boolean triggered) {
    }

    private List<AuthzResult> fetchAll(CaSession ca, List<URL> urls, boolean trigger, CaEnvironment env)
            throws CaException {
        List<Future<AuthzResult>> futures = new ArrayList<>();
        for (URL u : urls) {
            futures.add(acmeIo.submit(() -> {
                AuthorizationState a = ca.account().fetchAuthorization(u);
                boolean triggered = false;
                if (trigger && a.status() == CaStatus.PENDING && a.http01().isPresent()
                        && a.http01().get().status() == CaStatus.PENDING) {
                    Http01Proof p = a.http01().get();
                    publisher.publish(new Http01Token(p.token(), p.content(), a.identifier(), env,
                            Optional.of(u.toString()), a.expires().orElse(clock.instant().plus(Duration.ofDays(1)))));
                    triggers.triggering(u);
                    ca.account().triggerChallenge(p.url());
                    triggered = true;
                }
                return new AuthzResult(a, triggered);
            }));
        }
        List<AuthzResult> out = new ArrayList<>();
        CaException first = null;
        for (Future<AuthzResult> f : futures) {
            try {
                out.add(f.get());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof CaException ce) {
                    first = first == null ? ce : first;
                } else if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                } else {
                    throw new IllegalStateException(e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while fetching authorizations", e);
            }
        }
        if (first != null) {
            throw first;
        }
        return out;
    }

    private void pollAuthorizations(Batch b, CaSession ca, OrderState o) throws CaException {
        Map<String, BatchMember> byIdentifier = byIdentifier(b);
        List<AuthzResult> results = fetchAll(ca, o.authorizations(), true, b.environment());
        Map<Long, String> urls = new HashMap<>();
        List<Long> triggered = new ArrayList<>();
        List<Long> valid = new ArrayList<>();
        Map<Long, BatchTransition.Reason> invalid = new HashMap<>();
        Map<Long, AuthorizationState> failed = new HashMap<>();
        Optional<Instant> wait = Optional.empty();
        for (AuthzResult r : results) {
            AuthorizationState a = r.state();
            BatchMember m = byIdentifier.get(a.identifier());
            if (m == null) {
                throw new IllegalStateException("batch " + b.id() + ": the CA returned an authorization for "
                        + a.identifier() + ", which is not a member");
            }
            urls.put(m.domainId(), a.url().toString());
            if (r.triggered()) {
                triggered.add(m.domainId());
            }
            switch (a.status()) {
                case VALID -> {
                    validated(b, ca, m, a);
                    valid.add(m.domainId());
                }
                case INVALID -> {
                    invalid.put(m.domainId(), a.error().map(p -> Reasons.of(p, b.environment().wire() + " validation"))
                            .orElse(new BatchTransition.Reason("CA_AUTHORIZATION_INVALID",
                                    b.environment().wire() + " authorization " + a.url() + " is invalid")));
                    failed.put(m.domainId(), a);
                    a.http01().ifPresent(p -> publisher.withdraw(p.token()));
                }
                default -> wait = later(wait, a.retryAfter());
            }
        }
        batches.recordAuthorizations(b.id(), urls, triggered, valid);
        if (!invalid.isEmpty()) {
            invalidAuthorizations(b, ca, invalid, failed);
            return;
        }
        Instant next = wait.orElse(clock.instant().plus(settings.pollInterval()));
        batches.advance(b.id(), BatchState.AUTHORIZING, Optional.of(next));
    }

    private Instant nowPlusPoll() {
        return clock.instant().plus(settings.pollInterval());
    }

    private Optional<Instant> later(Optional<Instant> a, Optional<Instant> b) {
        Instant min = clock.instant().plus(Duration.ofMillis(200));
        Optional<Instant> pick = b.isEmpty() ? a : a.isEmpty() ? b : Optional.of(a.get().isAfter(b.get()) ? a.get() : b.get());
        return Optional.of(pick.filter(t -> t.isAfter(min)).orElse(nowPlusPoll()));
    }

    /**
     * Every authorization of a ready order is valid; record the validation age of the members this batch has not
     * seen valid yet (an order can turn ready between two polls, and reused authorizations are valid at once).
     */
    private void recordValidations(Batch b, CaSession ca, OrderState o) throws CaException {
        if (b.members().stream().allMatch(BatchMember::validated)) {
            return;
        }
        Map<String, BatchMember> byIdentifier = byIdentifier(b);
        List<URL> todo = o.authorizations().stream().filter(u -> {
            BatchMember m = b.members().stream().filter(x -> x.authzUrl().filter(u.toString()::equals).isPresent())
                    .findFirst().orElse(null);
            return m == null || !m.validated();
        }).toList();
        Map<Long, String> urls = new HashMap<>();
        List<Long> valid = new ArrayList<>();
        for (AuthzResult r : fetchAll(ca, todo, false, b.environment())) {
            BatchMember m = byIdentifier.get(r.state().identifier());
            if (m != null && r.state().status() == CaStatus.VALID) {
                validated(b, ca, m, r.state());
                urls.put(m.domainId(), r.state().url().toString());
                valid.add(m.domainId());
            }
        }
        batches.recordAuthorizations(b.id(), urls, List.of(), valid);
    }

    /**
     * Blames the members whose authorizations turned invalid, or retries them (see {@link Triggers}). Every
     * failure counts in the ledger and the pause guard's run, retried or not: the CA counts them all.
     */
    private void invalidAuthorizations(Batch b, CaSession ca, Map<Long, BatchTransition.Reason> invalid,
                                       Map<Long, AuthorizationState> failed) {
        Map<Long, Integer> streaks = failedAuthorizations(b, ca, invalid);
        Triggers.Verdict v = triggers.judge(b.environment(), invalid, failed,
                ids -> batches.retriedBefore(ids, Triggers.RETRIES_IN_A_ROW));
        v.retried().keySet().forEach(id -> log.warn("batch {}: {} failed {} validation with a connection error, but an "
                + "earlier process triggered its challenge and may have stopped before the CA connected; it is "
                + "ordered again, not quarantined", b.id(), identifierOf(b, id), b.environment().wire()));
        isolator.blameMembers(b, v.blamed(), streaks, v.retried());
    }

    private void validated(Batch b, CaSession ca, BatchMember m, AuthorizationState a) {
        triggers.ended(a.url());
        Instant at = a.http01().flatMap(Http01Proof::validated).orElse(clock.instant());
        certificates.recordValidation(m.domainId(), b.environment(), ca.accountId(), at, a.url().toString(), a.expires());
        a.http01().ifPresent(p -> publisher.withdraw(p.token()));
    }

    private void finalizeOrder(Batch b, CaSession ca, OrderState o) throws CaException {
        KeyPair key;
        if (b.environment() == CaEnvironment.PRODUCTION) {
            if (recheckCaa(b, ca)) {
                return;
            }
            key = Keys.fromPem(new String(certificates.decryptKey(b.id(), b.certKeyCiphertext().orElseThrow())));
        } else {
            key = Keys.generate(Keys.Type.EC_P256); // a rehearsal certificate is thrown away
        }
        OrderState after = ca.account().finalizeOrder(o.url(), key, b.identifiers());
        certificates.recordEvent(b.environment(), Optional.of(ca.accountId()), Optional.of(b.id()), "FINALIZE", "ok",
                Optional.empty(), Optional.empty(), b.identifiers(), Optional.empty());
        batches.advance(b.id(), BatchState.FINALIZING, Optional.of(after.retryAfter().orElse(clock.instant())));
    }

    /**
     * Let's Encrypt rechecks CAA at finalize for names validated more than 7 hours ago; a failure there sinks the
     * order. Check those names locally first. Returns true when the batch was changed (names removed or deferred).
     */
    private boolean recheckCaa(Batch b, CaSession ca) {
        Instant now = clock.instant();
        Map<Long, Instant> validated = precheckStore.validatedAt(b.members().stream().map(BatchMember::domainId).toList(),
                CaEnvironment.PRODUCTION, ca.accountId(), now);
        List<BatchMember> stale = b.members().stream()
                .filter(m -> validated.getOrDefault(m.domainId(), Instant.EPOCH).isBefore(now.minus(settings.freshFor())))
                .toList();
        if (stale.isEmpty()) {
            return false;
        }
        PrecheckRun run = prechecker.recheck(stale.stream().map(BatchMember::identifier).toList(),
                CaEnvironment.PRODUCTION);
        if (run.degraded()) {
            batches.defer(b.id(), now.plus(Duration.ofMinutes(15)), "RESOLVER_DEGRADED",
                    "CAA recheck before finalize could not run: " + run.degradedReason().orElse("resolver degraded"));
            return true;
        }
        Map<Long, BatchTransition.Reason> blocked = new HashMap<>();
        for (int i = 0; i < stale.size(); i++) {
            PrecheckResult r = run.results().get(i);
            if (r.verdict() == PrecheckVerdict.BLOCKED) {
                blocked.put(stale.get(i).domainId(), new BatchTransition.Reason(r.reason().name(),
                        "CAA recheck before production finalize: " + r.detail()));
            }
        }
        log.info("batch {}: rechecked CAA of {} name(s) validated more than {} h ago; {} blocked", b.id(), stale.size(),
                settings.freshFor().toHours(), blocked.size());
        if (blocked.isEmpty()) {
            return false;
        }
        isolator.blameMembers(b, blocked);
        return true;
    }

    private void complete(Batch b, CaSession ca) throws CaException {
        OrderState o = ca.account().fetchOrder(Accounts.url(b.orderUrl().orElseThrow()));
        switch (o.status()) {
            case VALID -> {
                if (b.environment() == CaEnvironment.STAGING) {
                    isolator.cleared(b);
                } else {
                    issue(b, ca, o);
                }
            }
            case READY -> finalizeOrder(b, ca, o);
            case INVALID, EXPIRED, DEACTIVATED -> failedOrder(b, ca, o);
            default -> batches.advance(b.id(), BatchState.FINALIZING,
                    Optional.of(o.retryAfter().orElse(nowPlusPoll())));
        }
    }

    private void issue(Batch b, CaSession ca, OrderState o) throws CaException {
        IssuedCertificate c = ca.account().downloadCertificate(o.certificate().orElseThrow(
                () -> new IllegalStateException("batch " + b.id() + ": valid order " + o.url() + " has no certificate")));
        Optional<io.certfleet.model.RenewalWindow> ari = Optional.empty();
        try {
            ari = ca.account().renewalWindow(c.url());
        } catch (CaException e) {
            log.warn("batch {}: could not read the renewal window (ARI) of the new certificate; renewing at 2/3 of its "
                    + "lifetime instead: {}", b.id(), e.getMessage());
        }
        RenewalTiming.Choice renew = RenewalTiming.choose(c.notBefore(), c.notAfter(), ari, clock.instant(),
                java.util.concurrent.ThreadLocalRandom.current());
        long id = certificates.storeIssued(b.id(), b.environment(), b.members().stream().map(BatchMember::domainId).toList(),
                b.identifiers(), c.serialHex(), c.notBefore(), c.notAfter(), c.chainPem(), c.url().toString(),
                renew.at(), renew.basis(), ari, RenewalIds.of(c.chainPem()));
        certificates.recordEvent(b.environment(), Optional.of(ca.accountId()), Optional.of(b.id()), "CERTIFICATE", "ok",
                Optional.empty(), Optional.empty(), b.identifiers(), Optional.empty());
        log.info("batch {}: certificate {} issued for {} names (serial {}, valid until {}, renews at {})", b.id(), id,
                b.members().size(), c.serialHex(), c.notAfter(), renew.at());
    }

    private void failedOrder(Batch b, CaSession ca, OrderState o) throws CaException {
        Map<String, BatchMember> byIdentifier = byIdentifier(b);
        Map<Long, BatchTransition.Reason> invalid = new HashMap<>();
        Map<Long, AuthorizationState> failed = new HashMap<>();
        for (AuthzResult r : fetchAll(ca, o.authorizations(), false, b.environment())) {
            AuthorizationState a = r.state();
            BatchMember m = byIdentifier.get(a.identifier());
            if (m != null && a.status() == CaStatus.INVALID) {
                invalid.put(m.domainId(), a.error().map(p -> Reasons.of(p, b.environment().wire() + " validation"))
                        .orElse(new BatchTransition.Reason("CA_AUTHORIZATION_INVALID", "authorization invalid")));
                failed.put(m.domainId(), a);
            }
            a.http01().ifPresent(p -> publisher.withdraw(p.token()));
        }
        if (!invalid.isEmpty()) {
            invalidAuthorizations(b, ca, invalid, failed);
        } else if (o.error().isPresent()) {
            certificates.recordEvent(b.environment(), Optional.of(ca.accountId()), Optional.of(b.id()), "ORDER",
                    "invalid", Optional.of(o.error().get().type()), Optional.of(o.error().get().detail()),
                    b.identifiers(), Optional.empty());
            isolator.rejected(b, ProblemAttribution.attribute(o.error().get(), b.identifiers()).names(),
                    o.error());
        } else {
            isolator.expired(b, o.status().name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    /**
     * Records the failed validations in the ledger (failed authorizations per name per hour) and adds them to the
     * names' consecutive failures; returns each name's run of failures now (for the pause guard).
     */
    private Map<Long, Integer> failedAuthorizations(Batch b, CaSession ca, Map<Long, BatchTransition.Reason> invalid) {
        Map<Long, String> identifiers = new HashMap<>();
        invalid.keySet().forEach(id -> identifiers.put(id, identifierOf(b, id)));
        return limits.recordFailedAuthorizations(b.environment(), ca.accountId(), Optional.of(b.id()), identifiers,
                invalid.values().iterator().next().detail(), clock.instant());
    }

    private void event(Batch b, CaSession ca, String request, String outcome, CaException e) {
        certificates.recordEvent(b.environment(), Optional.of(ca.accountId()), Optional.of(b.id()), request, outcome,
                e.problem().map(p -> p.type()), Optional.ofNullable(e.getMessage()), b.identifiers(), Optional.empty());
    }

    private static Map<String, BatchMember> byIdentifier(Batch b) {
        Map<String, BatchMember> m = new HashMap<>();
        b.members().forEach(x -> m.put(x.identifier(), x));
        return m;
    }

    private static String identifierOf(Batch b, long domainId) {
        return b.members().stream().filter(m -> m.domainId() == domainId).map(BatchMember::identifier).findFirst()
                .orElse(Long.toString(domainId));
    }

}
