package io.certfleet.pipeline;

import io.certfleet.batch.Budget;
import io.certfleet.batch.NameLimits;
import io.certfleet.model.Batch;
import io.certfleet.model.BatchMember;
import io.certfleet.model.BatchTransition;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaLimit;
import io.certfleet.model.CaLimitWait;
import io.certfleet.model.DomainState;
import io.certfleet.model.DueDomain;
import io.certfleet.store.LedgerStore;
import io.certfleet.store.LimitStore;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Keeps to Let's Encrypt's limits before the CA has to (docs/pipeline.md, "Let's Encrypt's limits"): reads the
 * ledger, lets the pure rules of {@link NameLimits} and {@link Budget} decide, and records what must wait. Admission
 * asks it before pre-checking and packing; the stepper asks it again before every order, bisection probes and
 * re-rehearsals included.
 */
final class LimitGuard {
    static final Duration ORDER_WINDOW = Duration.ofHours(3);

    private final LedgerStore ledger;
    private final LimitStore limits;
    private final PipelineSettings settings;

    LimitGuard(LedgerStore ledger, LimitStore limits, PipelineSettings settings) {
        this.ledger = ledger;
        this.limits = limits;
        this.settings = settings;
    }

    /** The accounts certfleet orders with (absent before the first connect), and whether production offers ARI. */
    record AccountIds(Optional<Long> staging, Optional<Long> production, boolean productionAri) {
        Optional<Long> of(CaEnvironment env) {
            return env == CaEnvironment.PRODUCTION ? production : staging;
        }
    }

    // --- admission ----------------------------------------------------------------------------------------------

    /** Names that may not be ordered now at either environment, with why and until when. */
    List<NameLimits.Hold> nameHolds(List<DueDomain> names, AccountIds accounts, Instant now) {
        if (names.isEmpty()) {
            return List.of();
        }
        List<String> ids = names.stream().map(d -> d.name().identifier()).toList();
        NameLimits.Facts facts = new NameLimits.Facts(failedAuthorizations(ids, accounts, List.of(CaEnvironment.values()),
                now), failedAuthorizationLimits(), limits.streaks(ids), settings.budget().pauseGuardFailures(),
                limits.activeWaits(now), now);
        return NameLimits.check(names.stream().map(d -> new NameLimits.Name(d.id(), d.name().identifier(),
                d.registeredDomain())).toList(), facts);
    }

    /** Records name holds: stopped names are quarantined until released, the others held until their time. */
    void record(List<NameLimits.Hold> holds) {
        Map<Long, String[]> stop = new HashMap<>();
        Map<Long, String[]> hold = new HashMap<>();
        Map<Long, Instant> until = new HashMap<>();
        for (NameLimits.Hold h : holds) {
            if (h.stopped()) {
                stop.put(h.domainId(), new String[]{h.reason(), h.detail()});
            } else {
                hold.put(h.domainId(), new String[]{h.reason(), h.detail()});
                until.put(h.domainId(), h.until().orElseThrow());
            }
        }
        limits.stop(stop);
        ledger.hold(hold, until);
    }

    /**
     * Which planned orders go within the order windows, the registered domains' and the exact sets' limits.
     *
     * @param orders the planned orders, each marked rehearsed (staging first) or fresh (production only)
     */
    Budget.Allocation allocate(List<Budget.Order> orders, Map<Long, String> registeredDomains, AccountIds accounts,
                               Instant now) {
        List<CaLimitWait> waits = limits.activeWaits(now);
        Set<Long> ids = new HashSet<>();
        orders.forEach(o -> o.batch().members().forEach(c -> ids.add(c.domainId())));
        Budget.Ledger l = new Budget.Ledger(orderWindow(CaEnvironment.STAGING, accounts, waits, now),
                orderWindow(CaEnvironment.PRODUCTION, accounts, waits, now),
                ledger.certificatesByRegisteredDomain(new HashSet<>(registeredDomains.values()), now,
                        Budget.CERTIFICATE_WINDOW), settings.budget().certificatesPerDomainPer7d(),
                ledger.certificatesBySet(ids, now, Budget.CERTIFICATE_WINDOW),
                settings.budget().certificatesPerExactSetPer7d(), now);
        return Budget.allocate(orders, registeredDomains, l);
    }

    /**
     * Whether a planned batch's production order will replace a certificate inside the CA's ARI window (Let's
     * Encrypt then checks none of its limits): the CA offers ARI, and one of its names is on such a certificate.
     */
    boolean ariExempt(Collection<Long> domainIds, AccountIds accounts, Map<Long, io.certfleet.model.RenewalWindow> windows,
                      Instant now) {
        if (!accounts.productionAri()) {
            return false;
        }
        return domainIds.stream().map(windows::get).anyMatch(w -> w != null && !now.isBefore(w.start())
                && now.isBefore(w.end()));
    }

    Map<Long, io.certfleet.model.RenewalWindow> replaceableWindows(Collection<Long> domainIds, Instant now) {
        return ledger.replaceableWindows(domainIds, now);
    }

    private Budget.OrderWindow orderWindow(CaEnvironment env, AccountIds accounts, List<CaLimitWait> waits,
                                           Instant now) {
        Optional<CaLimitWait> wait = accountWait(env, waits, now);
        if (wait.isPresent()) {
            return Budget.OrderWindow.rateLimited(wait.get().until(), "Let's Encrypt " + env.wire()
                    + " refused new orders for the account until " + wait.get().until() + ": " + wait.get().detail());
        }
        List<Instant> placed = accounts.of(env).map(id -> ledger.newOrderTimes(env, id, now, ORDER_WINDOW))
                .orElse(List.of());
        return Budget.OrderWindow.of(placed, settings.budget().ordersPer3h(env), ORDER_WINDOW, env.wire());
    }

    private static Optional<CaLimitWait> accountWait(CaEnvironment env, List<CaLimitWait> waits, Instant now) {
        return waits.stream().filter(w -> w.environment() == env && w.scope() == CaLimit.Scope.ACCOUNT
                && w.until().isAfter(now)).max(java.util.Comparator.comparing(CaLimitWait::until));
    }

    private Map<CaEnvironment, Map<String, List<Instant>>> failedAuthorizations(List<String> ids, AccountIds accounts,
                                                                             List<CaEnvironment> envs, Instant now) {
        Map<CaEnvironment, Map<String, List<Instant>>> out = new EnumMap<>(CaEnvironment.class);
        for (CaEnvironment env : envs) {
            accounts.of(env).ifPresent(id -> out.put(env, ledger.failedAuthorizations(env, id, ids, now,
                    NameLimits.FAILED_AUTHORIZATION_WINDOW)));
        }
        return out;
    }

    private Map<CaEnvironment, Long> failedAuthorizationLimits() {
        Map<CaEnvironment, Long> out = new EnumMap<>(CaEnvironment.class);
        for (CaEnvironment env : CaEnvironment.values()) {
            out.put(env, settings.budget().failedAuthorizationsPerHour(env));
        }
        return out;
    }

    // --- before an order ----------------------------------------------------------------------------------------

    /** What may happen to a batch about to place its order. */
    sealed interface OrderCheck permits Go, Wait, TakeOut {
    }

    /** Place the order. */
    record Go() implements OrderCheck {
    }

    /** The whole batch waits (not a failure): an order window, or a bisection probe whose names must stay. */
    record Wait(Instant until, String reason, String detail) implements OrderCheck {
    }

    /** These names leave the batch and wait; the rest is ordered at the next step. */
    record TakeOut(Map<Long, BatchTransition.Hold> holds) implements OrderCheck {
    }

    /**
     * Checks a batch before its order: the names' limits at its environment (the CA's 429 waits, failed
     * authorizations per hour), then, unless its order is exempt (ARI inside the window), the account's order
     * window and, at production, the registered domains' and the exact set's certificates.
     */
    OrderCheck beforeOrder(Batch b, CaSession ca, boolean exempt, Instant now) {
        CaEnvironment env = b.environment();
        List<Long> ids = b.members().stream().map(BatchMember::domainId).toList();
        Map<Long, String> rd = ledger.registeredDomains(ids);
        List<CaLimitWait> waits = limits.activeWaits(now).stream().filter(w -> w.environment() == env).toList();
        List<String> identifiers = b.identifiers();
        NameLimits.Facts facts = new NameLimits.Facts(Map.of(env, ledger.failedAuthorizations(env, ca.accountId(),
                identifiers, now, NameLimits.FAILED_AUTHORIZATION_WINDOW)), failedAuthorizationLimits(), Map.of(),
                settings.budget().pauseGuardFailures(), waits, now);
        List<NameLimits.Hold> names = NameLimits.check(b.members().stream().map(m -> new NameLimits.Name(
                m.domainId(), m.identifier(), Optional.ofNullable(rd.get(m.domainId())))).toList(), facts);
        if (!names.isEmpty()) {
            return takeOutOrWait(b, names, now);
        }
        if (exempt) {
            return new Go();
        }
        Budget.OrderWindow window = orderWindow(env, new AccountIds(
                env == CaEnvironment.STAGING ? Optional.of(ca.accountId()) : Optional.empty(),
                env == CaEnvironment.PRODUCTION ? Optional.of(ca.accountId()) : Optional.empty(), false), waits, now);
        if (window.left(now, 0) <= 0) {
            return new Wait(window.freeAt(now, 0), window.reason(), window.detail());
        }
        if (env == CaEnvironment.STAGING) {
            return new Go();
        }
        Budget.Order order = new Budget.Order(new io.certfleet.batch.PlannedBatch(b.customer(), b.members().stream()
                .map(m -> new io.certfleet.batch.Candidate(m.domainId(), m.identifier(), b.customer())).toList()),
                false, false);
        Budget.Allocation a = allocate(List.of(order), rd, new AccountIds(Optional.empty(),
                Optional.of(ca.accountId()), false), now);
        return a.held().isEmpty() ? new Go() : takeOutOrWait(b, a.held().stream().map(h -> new NameLimits.Hold(
                h.domainId(), h.reason(), h.detail(), Optional.of(h.until()))).toList(), now);
    }

    private static OrderCheck takeOutOrWait(Batch b, List<NameLimits.Hold> holds, Instant now) {
        if (!b.probeIds().isEmpty()) {
            // a bisection probe tests exactly its names: it waits for the latest of them rather than shrink
            NameLimits.Hold latest = holds.stream().filter(h -> h.until().isPresent())
                    .max(java.util.Comparator.comparing(h -> h.until().get())).orElse(holds.get(0));
            return new Wait(latest.until().orElse(now.plus(Duration.ofDays(1))), latest.reason(), latest.detail());
        }
        Map<Long, BatchTransition.Hold> out = new LinkedHashMap<>();
        for (NameLimits.Hold h : holds) {
            out.put(h.domainId(), new BatchTransition.Hold(new BatchTransition.Reason(h.reason(), h.detail()),
                    h.stopped() ? DomainState.QUARANTINED : DomainState.HELD, h.until()));
        }
        return new TakeOut(out);
    }

    /** The names of a batch a 429 of {@code limit} for {@code subjects} concerns (their domain ids). */
    List<Long> membersInScope(Batch b, CaLimit limit, Collection<String> subjects) {
        List<Long> out = new ArrayList<>();
        Map<Long, String> rd = limit.scope() == CaLimit.Scope.REGISTERED_DOMAIN
                ? ledger.registeredDomains(b.members().stream().map(BatchMember::domainId).toList()) : Map.of();
        for (BatchMember m : b.members()) {
            boolean in = switch (limit.scope()) {
                case NAME -> subjects.contains(m.identifier());
                case REGISTERED_DOMAIN -> rd.containsKey(m.domainId()) && subjects.contains(rd.get(m.domainId()));
                case ACCOUNT -> false;
            };
            if (in) {
                out.add(m.domainId());
            }
        }
        return out;
    }

    /** Stores the CA's 429 for each subject of its scope and holds the queued names in it. */
    void recordWaits(CaEnvironment env, CaLimit limit, Collection<String> subjects, Instant until, String detail,
                     long accountId, long batchId) {
        for (String subject : subjects) {
            limits.recordWait(new CaLimitWait(env, limit, limit.scope(), subject, until, detail), Optional.of(accountId),
                    Optional.of(batchId));
        }
    }
}
