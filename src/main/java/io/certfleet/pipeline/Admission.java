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

    Admission(PrecheckStore precheckStore, BatchStore batches, LedgerStore ledger, Prechecker prechecker,
              PipelineSettings settings, Clock clock) {
        this.precheckStore = precheckStore;
        this.batches = batches;
        this.ledger = ledger;
        this.prechecker = prechecker;
        this.settings = settings;
        this.clock = clock;
    }

    /** What admission did, for the run summary. */
    public record Report(int due, int fresh, int checked, int allowed, Map<String, Integer> heldBack, boolean degraded,
                  int stagingBatches, int productionBatches) {
    }

    Report admit(Optional<Long> productionAccountId, Optional<Long> stagingAccountId) {
        Instant started = clock.instant();
        List<DueDomain> due = precheckStore.dueDomains(started, MAX_DUE);
        if (due.isEmpty()) {
            return new Report(0, 0, 0, 0, Map.of(), false, 0, 0);
        }
        Sorting sorted = sort(due, started, productionAccountId);
        List<PrecheckRecord> records = new ArrayList<>();
        Map<String, Integer> heldBack = new TreeMap<>();
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
        List<BatchTransition.NewBatch> newBatches = budgeted(allowed, fresh, due, productionAccountId,
                stagingAccountId, started, heldBack, true);
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
    Plan plan(Optional<Long> productionAccountId) {
        Instant now = clock.instant();
        List<DueDomain> due = new ArrayList<>(precheckStore.dueDomains(now, MAX_DUE));
        List<DueDomain> renewals = precheckStore.renewalCandidates(now);
        due.addAll(renewals);
        Sorting sorted = sort(due, now, productionAccountId);
        Map<String, Integer> budgetHeld = new TreeMap<>();
        List<BatchTransition.NewBatch> planned = budgeted(sorted.toCheck(), sorted.fresh(), due, productionAccountId,
                Optional.empty(), now, budgetHeld, false);
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
                sorted.wildcards().stream().map(d -> d.name().identifier()).toList(), orders, budgetHeld);
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
     * Packs the allowed names (staging) and the fresh ones (production), then keeps to the CA's limits: orders
     * that would go over the account's 3-hour new-order window, and names whose registered domain has used up its
     * certificates for 7 days, wait (held, with the reason and the time they can go).
     */
    private List<BatchTransition.NewBatch> budgeted(List<DueDomain> allowed, List<DueDomain> fresh, List<DueDomain> due,
                                                    Optional<Long> productionAccountId, Optional<Long> stagingAccountId,
                                                    Instant now, Map<String, Integer> heldBack, boolean write) {
        Packer packer = new Packer(settings.maxNames(), settings.grouping());
        List<PlannedBatch> planned = new ArrayList<>(packer.pack(candidates(fresh)));
        int freshCount = planned.size();
        planned.addAll(packer.pack(candidates(allowed)));
        Map<Long, String> rd = new java.util.HashMap<>();
        due.forEach(d -> d.registeredDomain().ifPresent(r -> rd.put(d.id(), r)));
        Duration threeHours = Duration.ofHours(3);
        Duration week = Duration.ofDays(7);
        long prodLeft = settings.budget().productionOrdersPer3h();
        Instant freeAt = now.plus(threeHours);
        if (productionAccountId.isPresent()) {
            LedgerStore.Spent spent = ledger.newOrders(CaEnvironment.PRODUCTION, productionAccountId.get(), now, threeHours);
            prodLeft -= spent.count();
            freeAt = spent.oldest().map(t -> t.plus(threeHours)).orElse(freeAt);
        }
        long stagingLeft = settings.budget().stagingOrdersPer3h();
        if (stagingAccountId.isPresent()) {
            stagingLeft -= ledger.newOrders(CaEnvironment.STAGING, stagingAccountId.get(), now, threeHours).count();
        }
        Map<String, Long> certs = new java.util.HashMap<>();
        Map<String, Instant> domainFree = new java.util.HashMap<>();
        ledger.certificatesByRegisteredDomain(new java.util.HashSet<>(rd.values()), now, week).forEach((k, v) -> {
            certs.put(k, v.count());
            v.oldest().ifPresent(t -> domainFree.put(k, t.plus(week)));
        });
        // every planned order becomes one production order; staging orders are spent only by the non-fresh ones
        long ordersLeft = Math.max(0, Math.min(prodLeft, freshCount + Math.max(0, stagingLeft)));
        Budget.Allocation a = Budget.allocate(planned, rd, new Budget.Ledger(ordersLeft, freeAt, certs, domainFree,
                settings.budget().certificatesPerDomainPer7d()));
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
        return out;
    }

    private static List<Candidate> candidates(List<DueDomain> names) {
        return names.stream().map(d -> new Candidate(d.id(), d.name().identifier(), d.customer())).toList();
    }

}
