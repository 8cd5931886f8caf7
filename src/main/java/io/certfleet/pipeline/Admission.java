package io.certfleet.pipeline;

import io.certfleet.batch.Candidate;
import io.certfleet.batch.Packer;
import io.certfleet.batch.PlannedBatch;
import io.certfleet.model.BatchTransition;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainState;
import io.certfleet.model.DueDomain;
import io.certfleet.model.PrecheckRecord;
import io.certfleet.model.PrecheckResult;
import io.certfleet.model.PrecheckRun;
import io.certfleet.model.PrecheckVerdict;
import io.certfleet.batch.Budget;
import io.certfleet.store.BatchStore;
import io.certfleet.store.LedgerStore;
import io.certfleet.store.PrecheckStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The first half of a run: takes the due domains, skips the pre-check and rehearsal of names whose production
 * authorization is fresh, pre-checks the rest, quarantines or holds what must not be sent (with the reason), and
 * packs the clean names into new staging batches (fresh names into production batches).
 */
final class Admission {
    private static final Logger log = LoggerFactory.getLogger(Admission.class);
    static final int MAX_DUE = 200_000;

    private final PrecheckStore precheckStore;
    private final BatchStore batches;
    private final Prechecker prechecker;
    private final PipelineSettings settings;
    private final Clock clock;
    private final LedgerStore ledger;
    private final LimitGuard guard;

    Admission(PrecheckStore precheckStore, BatchStore batches, LedgerStore ledger, LimitGuard guard,
              Prechecker prechecker, PipelineSettings settings, Clock clock) {
        this.precheckStore = precheckStore;
        this.batches = batches;
        this.ledger = ledger;
        this.guard = guard;
        this.prechecker = prechecker;
        this.settings = settings;
        this.clock = clock;
    }

    /** What admission did, for the run summary. */
    public record Report(int due, int fresh, int checked, int allowed, Map<String, Integer> heldBack, boolean degraded,
                  int stagingBatches, int productionBatches) {
    }

    Report admit(LimitGuard.AccountIds accounts) {
        Instant started = clock.instant();
        List<DueDomain> due = precheckStore.dueDomains(started, MAX_DUE);
        if (due.isEmpty()) {
            return new Report(0, 0, 0, 0, Map.of(), false, 0, 0);
        }
        Map<String, Integer> heldBack = new TreeMap<>();
        Sorting sorted = withoutHeldNames(sort(due, started, accounts.production()), accounts, started, heldBack, true);
        List<PrecheckRecord> records = new ArrayList<>();
        List<DueDomain> fresh = sorted.fresh();
        List<DueDomain> toCheck = sorted.toCheck();
        for (DueDomain d : sorted.wildcards()) {
            records.add(record(d, "at-risk", "NEEDS_DNS01", "wildcard names need DNS-01 validation, which "
                    + "certfleet does not perform yet; the name waits", DomainState.HELD,
                    Optional.of("NEEDS_DNS01"), Optional.of(started.plus(Duration.ofDays(1)))));
            heldBack.merge("NEEDS_DNS01", 1, Integer::sum);
        }
        for (DueDomain d : fresh) {
            Instant v = sorted.validated().get(d.id());
            records.add(record(d, "allowed", "SKIPPED_FRESH", "production authorization validated at " + v
                    + " (" + Duration.between(v, started).toMinutes() + " min ago); Let's Encrypt reuses it without "
                    + "a CAA recheck, so no pre-check or rehearsal is needed", DomainState.PENDING, Optional.empty(),
                    Optional.empty()));
        }
        PrecheckRun run = toCheck.isEmpty() ? new PrecheckRun(List.of(), false, Optional.empty(), 0)
                : prechecker.check(toCheck.stream().map(d -> d.name().identifier()).toList(), CaEnvironment.PRODUCTION);
        List<DueDomain> allowed = new ArrayList<>();
        for (int i = 0; i < toCheck.size(); i++) {
            DueDomain d = toCheck.get(i);
            PrecheckResult r = run.results().get(i);
            PrecheckRecord rec = apply(d, r, started);
            records.add(rec);
            if (rec.newState() == DomainState.PENDING && rec.nextAttempt().isEmpty()) {
                allowed.add(d);
            } else {
                heldBack.merge(r.reason().name(), 1, Integer::sum);
            }
        }
        precheckStore.record(CaEnvironment.PRODUCTION, "", run.degraded(), run.degradedReason(), started,
                clock.instant(), records);
        List<BatchTransition.NewBatch> newBatches = budgeted(allowed, fresh, due, accounts, started, heldBack, true)
                .batches();
        int staging = (int) newBatches.stream().filter(b -> b.environment() == CaEnvironment.STAGING).count();
        batches.createAll(newBatches);
        if (run.degraded()) {
            log.warn("precheck: the resolver is degraded ({}); {} name(s) were left unchecked and stay pending",
                    run.degradedReason().orElse("?"), run.unchecked().size());
        }
        log.info("admission: {} due, {} fresh, {} pre-checked, {} allowed, held back {}; {} staging and {} production "
                        + "batch(es) planned", due.size(), fresh.size(), toCheck.size(), allowed.size(), heldBack,
                staging, newBatches.size() - staging);
        return new Report(due.size(), fresh.size(), toCheck.size(), allowed.size(), heldBack, run.degraded(), staging,
                newBatches.size() - staging);
    }

    /**
     * Takes out the names their own limits keep from being ordered now (the pause guard, the CA's 429 waits, failed
     * authorizations per hour) before anything is spent on them: no pre-check, no packing. Counts them by reason;
     * records them when {@code write}.
     */
    private Sorting withoutHeldNames(Sorting sorted, LimitGuard.AccountIds accounts, Instant now,
                                     Map<String, Integer> heldBack, boolean write) {
        List<DueDomain> candidates = new ArrayList<>(sorted.fresh());
        candidates.addAll(sorted.toCheck());
        List<io.certfleet.batch.NameLimits.Hold> holds = guard.nameHolds(candidates, accounts, now);
        if (holds.isEmpty()) {
            return sorted;
        }
        java.util.Set<Long> out = new java.util.HashSet<>();
        for (var h : holds) {
            out.add(h.domainId());
            heldBack.merge(h.reason(), 1, Integer::sum);
        }
        if (write) {
            guard.record(holds);
            log.warn("admission: {} name(s) wait for their limits: {}", holds.size(), holds.stream()
                    .map(io.certfleet.batch.NameLimits.Hold::reason).distinct().toList());
        }
        return new Sorting(sorted.wildcards(), sorted.fresh().stream().filter(d -> !out.contains(d.id())).toList(),
                sorted.toCheck().stream().filter(d -> !out.contains(d.id())).toList(), sorted.validated());
    }

    /** Due names sorted by what admission does with them. */
    record Sorting(List<DueDomain> wildcards, List<DueDomain> fresh, List<DueDomain> toCheck,
                   Map<Long, Instant> validated) {
    }

    Sorting sort(List<DueDomain> due, Instant now, Optional<Long> productionAccountId) {
        Map<Long, Instant> validated = productionAccountId.map(id -> precheckStore.validatedAt(
                due.stream().map(DueDomain::id).toList(), CaEnvironment.PRODUCTION, id,
                now.plus(settings.authzReuseMargin()))).orElse(Map.of());
        List<DueDomain> wildcards = new ArrayList<>();
        List<DueDomain> fresh = new ArrayList<>();
        List<DueDomain> toCheck = new ArrayList<>();
        for (DueDomain d : due) {
            Instant v = validated.get(d.id());
            if (d.name().wildcard()) {
                wildcards.add(d);
            } else if (v != null && v.isAfter(now.minus(settings.freshFor()))) {
                fresh.add(d);
            } else {
                toCheck.add(d);
            }
        }
        return new Sorting(wildcards, fresh, toCheck, validated);
    }

    /**
     * What {@link #admit} would do now, without pre-checking or writing anything: due names (including the names
     * of certificates due for renewal), sorted, and the batches they would form if every pre-check passed.
     */
    Plan plan(LimitGuard.AccountIds accounts) {
        Instant now = clock.instant();
        List<DueDomain> due = new ArrayList<>(precheckStore.dueDomains(now, MAX_DUE));
        List<DueDomain> renewals = precheckStore.renewalCandidates(now);
        due.addAll(renewals);
        Map<String, Integer> budgetHeld = new TreeMap<>();
        Sorting sorted = withoutHeldNames(sort(due, now, accounts.production()), accounts, now, budgetHeld, false);
        Budgeted budgeted = budgeted(sorted.toCheck(), sorted.fresh(), due, accounts, now, budgetHeld, false);
        List<BatchTransition.NewBatch> planned = budgeted.batches();
        Map<Long, String> names = new java.util.HashMap<>();
        due.forEach(d -> names.put(d.id(), d.name().identifier()));
        List<Plan.Order> orders = new ArrayList<>();
        for (CaEnvironment env : List.of(CaEnvironment.STAGING, CaEnvironment.PRODUCTION)) {
            for (var b : planned) {
                if (b.environment() == env) {
                    orders.add(new Plan.Order(env, b.customer(), b.domainIds().stream().map(names::get).toList()));
                }
            }
        }
        return new Plan(now, due.size(), renewals.size(), sorted.toCheck().size(), sorted.fresh().size(),
                sorted.wildcards().stream().map(d -> d.name().identifier()).toList(), orders, budgetHeld,
                new Plan.Spend(budgeted.use().stagingOrders(), budgeted.use().productionOrders(),
                        budgeted.use().ariExemptOrders()));
    }

    private PrecheckRecord apply(DueDomain d, PrecheckResult r, Instant now) {
        String evidence = null;
        if (r.unchecked()) {
            return record(d, r, DomainState.PENDING, Optional.of(r.reason().name()), Optional.of(now.plus(Duration.ofMinutes(15))));
        }
        if (r.verdict() == PrecheckVerdict.ALLOWED) {
            return record(d, r, DomainState.PENDING, Optional.empty(), Optional.empty());
        }
        Instant next = now.plus(PipelineSettings.backoff(settings.quarantineBackoff(), settings.quarantineBackoffMax(),
                d.attempts()));
        if (r.verdict() == PrecheckVerdict.AT_RISK && !settings.holdAtRisk()) {
            return record(d, r, DomainState.PENDING, Optional.empty(), Optional.empty());
        }
        DomainState state = r.verdict() == PrecheckVerdict.BLOCKED ? DomainState.QUARANTINED : DomainState.HELD;
        return record(d, r, state, Optional.of(r.reason().name()), Optional.of(next));
    }

    private static PrecheckRecord record(DueDomain d, PrecheckResult r, DomainState state, Optional<String> reasonCode,
                                         Optional<Instant> next) {
        return new PrecheckRecord(d.id(), r.verdict().wire(), r.reason().name(), r.level(), r.detail(),
                Optional.of(EvidenceJson.of(r)), r.elapsedMs(), state, reasonCode, next);
    }

    private static PrecheckRecord record(DueDomain d, String verdict, String reason, String detail, DomainState state,
                                         Optional<String> reasonCode, Optional<Instant> next) {
        return new PrecheckRecord(d.id(), verdict, reason, Optional.empty(), detail, Optional.empty(), 0, state,
                reasonCode, next);
    }

    /**
     * Packs the allowed names (staging) and the fresh ones (production), then keeps to the CA's limits
     * ({@link LimitGuard#allocate}): orders over an account's new-order window, names of a registered domain that
     * used up its certificates for 7 days, and exact sets at their limit wait (held, with the reason and the time
     * they can go). An order whose production order will replace a certificate inside its ARI window is exempt.
     */
    private Budgeted budgeted(List<DueDomain> allowed, List<DueDomain> fresh, List<DueDomain> due,
                              LimitGuard.AccountIds accounts, Instant now, Map<String, Integer> heldBack, boolean write) {
        Packer packer = new Packer(settings.maxNames(), settings.grouping());
        List<PlannedBatch> planned = new ArrayList<>(packer.pack(candidates(fresh)));
        int freshCount = planned.size();
        planned.addAll(packer.pack(candidates(allowed)));
        Map<Long, String> rd = new java.util.HashMap<>();
        due.forEach(d -> d.registeredDomain().ifPresent(r -> rd.put(d.id(), r)));
        List<Long> ids = planned.stream().flatMap(b -> b.members().stream()).map(Candidate::domainId).toList();
        var windows = accounts.productionAri() ? guard.replaceableWindows(ids, now)
                : Map.<Long, io.certfleet.model.RenewalWindow>of();
        List<Budget.Order> orders = new ArrayList<>();
        for (int i = 0; i < planned.size(); i++) {
            PlannedBatch b = planned.get(i);
            orders.add(new Budget.Order(b, i >= freshCount, guard.ariExempt(b.members().stream()
                    .map(Candidate::domainId).toList(), accounts, windows, now)));
        }
        Budget.Allocation a = guard.allocate(orders, rd, accounts, now);
        Map<Long, String[]> why = new java.util.HashMap<>();
        Map<Long, Instant> until = new java.util.HashMap<>();
        for (Budget.Held h : a.held()) {
            why.put(h.domainId(), new String[]{h.reason(), h.detail()});
            until.put(h.domainId(), h.until().isAfter(now) ? h.until() : now.plus(Duration.ofMinutes(5)));
            heldBack.merge(h.reason(), 1, Integer::sum);
        }
        if (!why.isEmpty() && write) {
            ledger.hold(why, until);
            log.warn("admission: {} name(s) wait for the CA's limits: {}", why.size(), a.held().stream()
                    .map(Budget.Held::reason).distinct().toList());
        }
        List<BatchTransition.NewBatch> out = new ArrayList<>();
        for (int i = 0; i < a.go().size(); i++) {
            PlannedBatch b = a.go().get(i);
            CaEnvironment env = a.goIndex().get(i) < freshCount ? CaEnvironment.PRODUCTION : CaEnvironment.STAGING;
            out.add(new BatchTransition.NewBatch(env, b.customer(), Optional.empty(), Optional.empty(),
                    b.members().stream().map(Candidate::domainId).toList(), List.of(), Optional.empty(), 0));
        }
        return new Budgeted(out, a.use());
    }

    /** The batches to create and the orders they would spend. */
    private record Budgeted(List<BatchTransition.NewBatch> batches, Budget.Use use) {
    }

    private static List<Candidate> candidates(List<DueDomain> names) {
        return names.stream().map(d -> new Candidate(d.id(), d.name().identifier(), d.customer())).toList();
    }

}
