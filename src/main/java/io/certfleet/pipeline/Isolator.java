package io.certfleet.pipeline;

import io.certfleet.acme.CaException;
import io.certfleet.acme.CaRateLimitedException;
import io.certfleet.batch.Bisection;
import io.certfleet.batch.NameLimits;
import io.certfleet.model.Batch;
import io.certfleet.model.BatchMember;
import io.certfleet.model.BatchState;
import io.certfleet.model.BatchTransition;
import io.certfleet.model.BatchTransition.NewBatch;
import io.certfleet.model.BatchTransition.Reason;
import io.certfleet.model.BisectState;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaLimit;
import io.certfleet.model.DomainState;
import io.certfleet.model.CaProblem;
import io.certfleet.store.BatchStore;
import io.certfleet.store.CertificateStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides what happens to a batch the CA refused or could not serve, cheapest first: quarantine the names the CA
 * blamed and order the rest again; bisect a failure that names nobody ({@link Bisection}); and wait, never
 * quarantining anybody, when the fault is the CA's (outage, rate limit). Every decision is one
 * {@link BatchTransition}, applied atomically.
 */
final class Isolator {
    private static final Logger log = LoggerFactory.getLogger(Isolator.class);

    private final BatchStore batches;
    private final CertificateStore certificates;
    private final LimitGuard guard;
    private final PipelineSettings settings;
    private final Clock clock;

    Isolator(BatchStore batches, CertificateStore certificates, LimitGuard guard, PipelineSettings settings,
             Clock clock) {
        this.batches = batches;
        this.certificates = certificates;
        this.guard = guard;
        this.settings = settings;
        this.clock = clock;
    }

    private BatchTransition.Backoff backoff() {
        return new BatchTransition.Backoff(settings.quarantineBackoff(), settings.quarantineBackoffMax());
    }

    /** The CA blamed these identifiers (possibly none) for refusing the order. */
    void rejected(Batch b, Set<String> blamedIdentifiers, Optional<CaProblem> problem) {
        Map<Long, Reason> blamed = new HashMap<>();
        for (BatchMember m : b.members()) {
            if (blamedIdentifiers.contains(m.identifier())) {
                blamed.put(m.domainId(), problem.map(p -> Reasons.of(p, b.environment().wire()))
                        .orElse(new Reason("CA_REJECTED", b.environment().wire() + " refused the name")));
            }
        }
        if (blamed.isEmpty()) {
            unattributed(b, problem);
        } else {
            blameMembers(b, blamed);
        }
    }

    /** Quarantines the blamed members and orders the rest again (a cheap re-rehearsal: authorizations are reused). */
    void blameMembers(Batch b, Map<Long, Reason> blamed) {
        blameMembers(b, blamed, Map.of(), Map.of());
    }

    /**
     * As {@link #blameMembers(Batch, Map)} for names whose validation failed: a name whose consecutive failed
     * authorizations reached the pause guard is stopped (quarantined, {@code PAUSE_GUARD}, no next attempt) until
     * an operator releases it, long before Let's Encrypt would pause it for the account.
     *
     * The {@code retried} ones (failed, but maybe not by their own fault, see {@link Triggers}) go on with the
     * rest, their reason recorded.
     *
     * @param streaks each name's consecutive failed authorizations, this failure included
     */
    void blameMembers(Batch b, Map<Long, Reason> blamed, Map<Long, Integer> streaks, Map<Long, Reason> retried) {
        Map<Long, Reason> quarantine = new HashMap<>();
        Map<Long, BatchTransition.Hold> stop = new HashMap<>();
        blamed.forEach((id, r) -> {
            int streak = streaks.getOrDefault(id, 0);
            if (streak >= settings.budget().pauseGuardFailures()) {
                stop.put(id, stopped(NameLimits.PAUSE_GUARD, streak + " authorizations of this name failed in a row "
                        + "(pause guard: " + settings.budget().pauseGuardFailures() + "); certfleet stops ordering it "
                        + "until an operator fixes the cause and releases it (certfleet release NAME); the last "
                        + "failure: " + r.detail()));
            } else {
                quarantine.put(id, r);
            }
        });
        if (!stop.isEmpty()) {
            log.warn("batch {}: {} name(s) reached the pause guard of {} failed authorizations in a row and stop until "
                    + "released", b.id(), stop.size(), settings.budget().pauseGuardFailures());
        }
        takeOut(b, quarantine, stop, retried);
    }

    private static BatchTransition.Hold stopped(String code, String detail) {
        return new BatchTransition.Hold(new Reason(code, detail), DomainState.QUARANTINED, Optional.empty());
    }

    /** Takes the quarantined and held names out and orders the rest (the retried ones among them) again. */
    private void takeOut(Batch b, Map<Long, Reason> blamed, Map<Long, BatchTransition.Hold> hold,
                         Map<Long, Reason> retried) {
        List<Long> rest = b.members().stream().map(BatchMember::domainId)
                .filter(id -> !blamed.containsKey(id) && !hold.containsKey(id)).toList();
        List<NewBatch> children = new ArrayList<>();
        Map<Long, Reason> release = new HashMap<>();
        Optional<Long> parent = Optional.of(b.id());
        List<Long> next = new ArrayList<>(rest);
        if (!b.probeIds().isEmpty()) {
            // a probe of a bisection: the search ends; its remaining names and the parked ones go on together
            Batch split = batches.load(b.parentId().orElseThrow());
            split.members().forEach(m -> next.add(m.domainId()));
            parent = Optional.of(split.id());
        }
        if (!next.isEmpty()) {
            if (b.environment() == CaEnvironment.PRODUCTION && b.attempts() + 1 > settings.maxProductionReorders()) {
                next.forEach(id -> release.put(id, new Reason("PRODUCTION_REORDERS_EXHAUSTED",
                        "production failed " + (b.attempts() + 1) + " times; the name waits for the next run")));
            } else {
                children.add(new NewBatch(b.environment(), b.customer(), parent, b.rehearsalId(),
                        List.copyOf(new LinkedHashSet<>(next)), List.of(), Optional.empty(), b.attempts() + 1));
            }
        }
        log.info("batch {}: {} name(s) blamed and quarantined ({}); {} go on in a new {} batch{}", b.id(),
                blamed.size() + hold.size(), java.util.stream.Stream.concat(blamed.values().stream(),
                        hold.values().stream().map(BatchTransition.Hold::reason)).map(Reason::code).distinct().toList(),
                next.size(), b.environment().wire(),
                retried.isEmpty() ? "" : ", " + retried.size() + " of them retried (" + BatchStore.RETRIED + ")");
        boolean onlyRetried = blamed.isEmpty() && hold.isEmpty();
        batches.apply(new BatchTransition(b.id(), BatchState.FAILED, Optional.of(onlyRetried ? BatchStore.RETRIED
                : "BLAMED"), Optional.of((blamed.size() + hold.size()) + " name(s) blamed, " + retried.size()
                + " retried"), blamed, backoff(), release, children, Optional.empty(), Optional.empty(), hold, retried));
    }

    /** A failure that names nobody. */
    void unattributed(Batch b, Optional<CaProblem> problem) {
        String what = problem.map(Reasons::brief).orElse("order failed without a problem document");
        if (b.members().size() == 1) {
            Reason r = new Reason(problem.map(p -> Reasons.code(p.type())).orElse("CA_UNATTRIBUTED"),
                    b.environment().wire() + " refused an order holding only this name: " + what);
            blameMembers(b, Map.of(b.members().get(0).domainId(), r));
            return;
        }
        if (!b.probeIds().isEmpty()) {
            Batch split = batches.load(b.parentId().orElseThrow());
            search(b, split, Bisection.probeFailed(split.bisect().orElseThrow(), List.copyOf(b.probeIds())), false);
            return;
        }
        if (b.environment() == CaEnvironment.PRODUCTION) {
            // never bisect with production orders: send the set back to staging, where isolation is cheap
            List<Long> ids = b.members().stream().map(BatchMember::domainId).toList();
            log.warn("batch {}: production order failed naming nobody ({}); the names go back to staging", b.id(), what);
            Map<Long, Reason> release = new HashMap<>();
            List<NewBatch> children = new ArrayList<>();
            if (b.attempts() + 1 > settings.maxProductionReorders()) {
                ids.forEach(id -> release.put(id, new Reason("PRODUCTION_REORDERS_EXHAUSTED", what)));
            } else {
                children.add(new NewBatch(CaEnvironment.STAGING, b.customer(), Optional.of(b.id()), Optional.empty(), ids,
                        List.of(), Optional.empty(), b.attempts() + 1));
            }
            batches.apply(new BatchTransition(b.id(), BatchState.FAILED, Optional.of("UNATTRIBUTED"), Optional.of(what),
                    Map.of(), BatchTransition.Backoff.NONE, release, children, Optional.empty(), Optional.empty()));
            return;
        }
        log.info("batch {}: staging order failed naming nobody ({}); bisecting {} names", b.id(), what, b.members().size());
        List<Long> ids = b.members().stream().map(BatchMember::domainId).toList();
        Batch splitting = new Batch(b.id(), b.environment(), BatchState.SPLIT, b.customer(), b.parentId(),
                b.rehearsalId(), b.accountId(), b.orderUrl(), b.attempts(), b.caFailures(), b.notBefore(), b.members(),
                Set.of(),
                b.bisect(), b.certKeyCiphertext(), b.certKeyAlgorithm(), Optional.of(what));
        searchStart(splitting, Bisection.start(ids, Bisection.knownClean(b.bisect())), what);
    }

    private void searchStart(Batch split, Bisection.Next next, String what) {
        if (next instanceof Bisection.Probe p) {
            batches.apply(new BatchTransition(split.id(), BatchState.SPLIT, Optional.of("UNATTRIBUTED"), Optional.of(what),
                    Map.of(), BatchTransition.Backoff.NONE, Map.of(), List.of(probe(split, p)),
                    Optional.of(new BatchTransition.ParentUpdate(split.id(), Optional.of(p.state()), Optional.empty())),
                    Optional.of(split.id())));
        } else {
            found(split, split, (Bisection.Found) next, what, BatchState.SPLIT);
        }
    }

    /** A probe finished: continue the search of its split parent. */
    private void search(Batch probe, Batch split, Bisection.Next next, boolean probeCleared) {
        String what = split.bisect().isPresent() ? "bisection of batch " + split.id() : "bisection";
        BatchState closing = probeCleared ? BatchState.SUPERSEDED : BatchState.FAILED;
        if (next instanceof Bisection.Probe p) {
            log.info("batch {}: probe {} {}; next probe tests {} suspect(s)", split.id(), probe.id(),
                    probeCleared ? "cleared" : "failed", p.suspectsTested().size());
            batches.apply(new BatchTransition(probe.id(), closing, Optional.of("PROBE"), Optional.of(what), Map.of(),
                    BatchTransition.Backoff.NONE, Map.of(), List.of(probe(split, p)),
                    Optional.of(new BatchTransition.ParentUpdate(split.id(), Optional.of(p.state()), Optional.empty())),
                    Optional.of(split.id())));
        } else {
            found(probe, split, (Bisection.Found) next, what, closing);
        }
    }

    private void found(Batch closing, Batch split, Bisection.Found f, String what, BatchState closingState) {
        String detail = split.errorDetail().orElse(what);
        Map<Long, Reason> quarantine = Map.of(f.culprit(), new Reason("CA_UNATTRIBUTED",
                "isolated by bisection of batch " + split.id() + ": orders holding this name failed and orders "
                        + "without it passed; the CA said: " + detail));
        log.info("batch {}: bisection isolated domain {}; {} other name(s) {}", split.id(), f.culprit(), f.rest().size(),
                f.restCleared() ? "cleared together and are promoted" : "are rehearsed again together");
        if (f.restCleared()) {
            // the probe just cleared holds exactly the other names: promote it
            batches.apply(new BatchTransition(closing.id(), BatchState.CLEARED, Optional.empty(), Optional.empty(),
                    quarantine, backoff(), Map.of(), List.of(promotion(closing)), Optional.empty(),
                    Optional.empty()));
            return;
        }
        List<NewBatch> children = f.rest().isEmpty() ? List.of() : List.of(new NewBatch(CaEnvironment.STAGING,
                split.customer(), Optional.of(split.id()), Optional.empty(), f.rest(), List.of(),
                Optional.of(new BisectState(f.verified(), List.of(), List.of())), closing.attempts()));
        batches.apply(new BatchTransition(closing.id(), closingState, Optional.of("UNATTRIBUTED"), Optional.of(detail),
                quarantine, backoff(), Map.of(), children, Optional.empty(), Optional.of(split.id())));
    }

    private static NewBatch probe(Batch split, Bisection.Probe p) {
        return new NewBatch(CaEnvironment.STAGING, split.customer(), Optional.of(split.id()), Optional.empty(),
                p.members(), p.suspectsTested(), Optional.empty(), 0);
    }

    /**
     * The production batch for exactly the names staging cleared. Its {@code attempts} count the production orders
     * this set's lineage already lost (a production failure that names nobody sends the set back to staging, and
     * the rehearsal promotes it again), so {@code pipeline.max-production-reorders} bounds the whole cycle.
     */
    private NewBatch promotion(Batch staging) {
        return new NewBatch(CaEnvironment.PRODUCTION, staging.customer(), Optional.empty(), Optional.of(staging.id()),
                staging.members().stream().map(BatchMember::domainId).toList(), List.of(), Optional.empty(),
                productionFailuresBefore(staging));
    }

    /** Production batches up this batch's lineage (parents, and the rehearsal a production batch was promoted from). */
    private int productionFailuresBefore(Batch b) {
        int failures = 0;
        Optional<Long> up = b.parentId();
        for (int hops = 0; up.isPresent() && hops < 1_000; hops++) {
            Batch a = batches.load(up.get());
            if (a.environment() == CaEnvironment.PRODUCTION) {
                failures++;
                up = a.parentId().or(a::rehearsalId);
            } else {
                up = a.parentId();
            }
        }
        return failures;
    }

    /** A staging order succeeded: promote exactly its names to production (or continue a bisection). */
    void cleared(Batch b) {
        if (!b.probeIds().isEmpty()) {
            Batch split = batches.load(b.parentId().orElseThrow());
            search(b, split, Bisection.probeCleared(split.bisect().orElseThrow(), List.copyOf(b.probeIds())), true);
            return;
        }
        log.info("batch {}: staging cleared {} names; promoting them to production", b.id(), b.members().size());
        batches.apply(new BatchTransition(b.id(), BatchState.CLEARED, Optional.empty(), Optional.empty(), Map.of(),
                BatchTransition.Backoff.NONE, Map.of(), List.of(promotion(b)), Optional.empty(), Optional.empty()));
    }

    /** The order expired or was deactivated without an error: order the same names again. */
    void expired(Batch b, String status) {
        batches.apply(new BatchTransition(b.id(), BatchState.ABANDONED, Optional.of("ORDER_" + status.toUpperCase()),
                Optional.of("the order became " + status + "; the names are ordered again"), Map.of(), BatchTransition.Backoff.NONE,
                Map.of(), List.of(new NewBatch(b.environment(), b.customer(),
                b.probeIds().isEmpty() ? Optional.of(b.id()) : b.parentId(), b.rehearsalId(),
                b.members().stream().map(BatchMember::domainId).toList(), List.copyOf(b.probeIds()), b.bisect(),
                b.attempts() + 1)), Optional.empty(), Optional.empty()));
    }

    /**
     * A 429. A paused name is stopped with the unpause URL for the operator (until released). Otherwise the CA's
     * Retry-After is stored for the limit's scope (durable, honoured by admission and before every order): the
     * account (the batch waits), a registered domain or names (those names of the batch leave it and wait; the
     * rest is ordered at once). A 429 certfleet cannot scope makes the batch wait.
     */
    void rateLimited(Batch b, CaSession ca, CaRateLimitedException e) {
        certificates.recordEvent(b.environment(), Optional.of(ca.accountId()), Optional.of(b.id()), e.request().name(),
                e.paused() ? "paused" : "rate-limited", e.problem().map(CaProblem::type), Optional.ofNullable(e.getMessage()),
                b.identifiers(), e.retryAfter());
        if (e.paused() && !e.blame().namesNobody()) {
            Map<Long, BatchTransition.Hold> paused = new HashMap<>();
            for (BatchMember m : b.members()) {
                if (e.blame().names().contains(m.identifier())) {
                    paused.put(m.domainId(), stopped("CA_PAUSED", "Let's Encrypt paused issuance for this name on "
                            + "account " + ca.accountUrl() + "; an operator must unpause it at "
                            + e.unpauseUrl().map(Object::toString).orElse("the URL in the CA's message")
                            + ", then release it (certfleet release NAME)"));
                }
            }
            if (!paused.isEmpty()) {
                log.warn("batch {}: Let's Encrypt paused {} name(s) for the account; they stop until an operator "
                        + "unpauses and releases them", b.id(), paused.size());
                takeOut(b, Map.of(), paused, Map.of());
                return;
            }
        }
        Optional<CaLimit> limit = e.limit();
        if (limit.isPresent() && e.retryAfter().isPresent() && scoped(b, ca, e, limit.get(), e.retryAfter().get())) {
            return;
        }
        Instant until = e.retryAfter().orElse(clock.instant().plus(PipelineSettings.backoff(settings.caBackoff(),
                settings.quarantineBackoffMax(), b.caFailures())));
        log.warn("batch {}: {} rate limited at {}; waiting until {}: {}", b.id(), b.environment().wire(),
                e.request(), until, e.scope());
        batches.defer(b.id(), until, limit.map(CaLimit::rateLimitedReason).orElse("RATE_LIMITED"), e.scope());
    }

    /**
     * Stores the 429's wait for its scope and takes the batch's names in the scope out (before the order exists);
     * returns false when the batch itself must wait (account scope, a placed order, a bisection probe, or a
     * scope certfleet could not read).
     */
    private boolean scoped(Batch b, CaSession ca, CaRateLimitedException e, CaLimit limit, Instant until) {
        Set<String> subjects = switch (limit.scope()) {
            case ACCOUNT -> Set.of("");
            case REGISTERED_DOMAIN -> e.limitSubject().map(Set::of).orElse(Set.of());
            case NAME -> limit == CaLimit.EXACT_SET ? Set.copyOf(b.identifiers())
                    : e.limitSubject().map(Set::of).orElse(Set.of());
        };
        if (subjects.isEmpty()) {
            return false;
        }
        String detail = e.problem().map(CaProblem::detail).orElse(e.scope());
        guard.recordWaits(b.environment(), limit, subjects, until, detail, ca.accountId(), b.id());
        List<Long> inScope = guard.membersInScope(b, limit, subjects);
        log.warn("batch {}: {} answered 429 ({}) for {}; stored until {}", b.id(), b.environment().wire(),
                limit.wire(), limit.scope() == CaLimit.Scope.ACCOUNT ? "the account" : subjects, until);
        if (inScope.isEmpty() || b.state() != BatchState.PLANNED || !b.probeIds().isEmpty()) {
            return false;
        }
        Map<Long, BatchTransition.Hold> holds = new HashMap<>();
        Reason why = new Reason(limit.rateLimitedReason(), "Let's Encrypt " + b.environment().wire()
                + " answered 429 until " + until + ": " + detail);
        inScope.forEach(id -> holds.put(id, new BatchTransition.Hold(why, DomainState.HELD, Optional.of(until))));
        int left = batches.holdMembers(b.id(), holds);
        log.info("batch {}: {} name(s) in the limit's scope wait until {}; {} name(s) are ordered without them",
                b.id(), holds.size(), until, left);
        return true;
    }

    /** The CA could not serve the step, or refused it for a reason that is ours: retry with backoff, or give up. */
    void caFault(Batch b, CaSession ca, CaException e, Optional<Instant> retryAfter) {
        certificates.recordEvent(b.environment(), Optional.of(ca.accountId()), Optional.of(b.id()), e.request().name(),
                "unavailable", e.problem().map(CaProblem::type), Optional.ofNullable(e.getMessage()), List.of(), retryAfter);
        if (b.caFailures() + 1 >= settings.maxAttempts()) {
            log.warn("batch {}: {} failed {} times in a row ({}); giving up, its names go back to the queue", b.id(),
                    e.request(), b.caFailures() + 1, e.getMessage());
            Map<Long, Reason> release = new HashMap<>();
            Reason why = new Reason("CA_UNAVAILABLE", String.valueOf(e.getMessage()));
            b.members().forEach(m -> release.put(m.domainId(), why));
            if (!b.probeIds().isEmpty()) {
                // the search cannot go on: its parked names return to the queue too
                batches.load(b.parentId().orElseThrow()).members().forEach(m -> release.put(m.domainId(), why));
            }
            batches.apply(new BatchTransition(b.id(), BatchState.ABANDONED, Optional.of("CA_UNAVAILABLE"),
                    Optional.ofNullable(e.getMessage()), Map.of(), BatchTransition.Backoff.NONE, release, List.of(), Optional.empty(),
                    Optional.empty()));
            return;
        }
        Instant until = retryAfter.orElse(clock.instant().plus(PipelineSettings.backoff(settings.caBackoff(),
                settings.quarantineBackoffMax(), b.caFailures())));
        log.warn("batch {}: {} at {} failed, not the names' fault; retrying at {}: {}", b.id(), e.request(),
                b.environment().wire(), until, e.getMessage());
        batches.defer(b.id(), until, e.getClass().getSimpleName(), String.valueOf(e.getMessage()));
    }
}
