package io.certfleet.batch;

import io.certfleet.model.CaLimit;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Let's Encrypt's per-order limits, applied before the CA has to: given the orders a run plans, what the ledger
 * says was already spent, and the limits, decides which orders go tonight and which names wait, with the reason
 * ({@code BUDGET_NEW_ORDERS}, {@code BUDGET_CERTIFICATES_PER_DOMAIN}, {@code BUDGET_EXACT_SET}, or
 * {@code RATE_LIMITED_NEW_ORDERS} while the CA's own 429 for the account lasts) and the earliest time they can go.
 * Pure: no I/O, no clock.
 *
 * <p>Every planned order becomes at most one certificate. A rehearsed order spends one staging and one production
 * order; a fresh one only a production order. A certificate counts once for every registered domain among its
 * names, and once for its exact set of names. One over-limit registered domain would make the CA refuse the whole
 * order, so its names are taken out and the rest of the order goes. The exact-set limit is about the whole set, so
 * a set at its limit waits as a whole (its names are covered by that set's recent certificates; ordering a
 * different set would only spend the registered domain's budget on names that need nothing).
 *
 * <p>A production order that replaces a certificate inside the CA's ARI window ({@link Order#ariExempt()}) is
 * checked against none of these limits and spends no production order, as at Let's Encrypt; its certificate still
 * counts for its registered domains and its exact set (Boulder spends both at issuance, {@code ra.go
 * countCertificateIssued}).
 */
public final class Budget {
    /** Window of the certificates-per-domain and per-exact-set limits. */
    public static final Duration CERTIFICATE_WINDOW = Duration.ofDays(7);

    private Budget() {
    }

    /**
     * One planned order.
     *
     * @param rehearsed  ordered at staging first (spends a staging order), then at production
     * @param ariExempt  its production order replaces a certificate inside the CA's ARI window
     */
    public record Order(PlannedBatch batch, boolean rehearsed, boolean ariExempt) {
    }

    /**
     * An account's new-order window in one environment: the orders placed inside it, its limit, and the reason
     * names wait for it; or, after the CA's own 429 for the account, no orders until {@code blockedUntil}.
     */
    public record OrderWindow(List<Instant> placed, long limit, Duration window, Optional<Instant> blockedUntil,
                              String reason, String detail) {
        public OrderWindow {
            placed = List.copyOf(placed);
        }

        /** From the times of the orders placed inside the window. */
        public static OrderWindow of(Collection<Instant> placed, long limit, Duration window, String environment) {
            return new OrderWindow(List.copyOf(placed), limit, window, Optional.empty(),
                    CaLimit.NEW_ORDERS.budgetReason(), "the " + environment + " account's limit of " + limit
                    + " new orders per " + window.toHours() + " hours is used up; the name goes when the window frees");
        }

        /** The CA refused new orders for the account (429) until {@code until}. */
        public static OrderWindow rateLimited(Instant until, String detail) {
            return new OrderWindow(List.of(), 1, Duration.ZERO, Optional.of(until),
                    CaLimit.NEW_ORDERS.rateLimitedReason(), detail);
        }

        /** Orders that may still be placed at {@code now}, after {@code planned} more placed now. */
        public long left(Instant now, long planned) {
            return blockedUntil.filter(now::isBefore).isPresent() ? 0
                    : SlidingWindow.left(with(now, planned), limit, window, now);
        }

        /** When the next order fits, after {@code planned} more placed now. */
        public Instant freeAt(Instant now, long planned) {
            return blockedUntil.filter(now::isBefore)
                    .orElseGet(() -> SlidingWindow.freeAt(with(now, planned), limit, window, now));
        }

        private List<Instant> with(Instant now, long planned) {
            List<Instant> all = new ArrayList<>(placed);
            for (long i = 0; i < planned; i++) {
                all.add(now);
            }
            return all;
        }
    }

    /**
     * What the ledger says was spent.
     *
     * @param certificatesByDomain issue times inside the window per registered domain
     * @param certificatesBySet    issue times inside the window per exact set ({@link #setKey})
     */
    public record Ledger(OrderWindow staging, OrderWindow production, Map<String, List<Instant>> certificatesByDomain,
                         long certificatesPerDomain, Map<String, List<Instant>> certificatesBySet,
                         long certificatesPerSet, Instant now) {
    }

    /** A name that waits, why, and until when. */
    public record Held(long domainId, String reason, String detail, Instant until) {
    }

    /** What the orders that go spend: staging and production orders, and production orders exempt by ARI. */
    public record Use(long stagingOrders, long productionOrders, long ariExemptOrders) {
    }

    /** The orders that go (each with its index in the planned list, its names possibly fewer), and the names
     * that wait. */
    public record Allocation(List<PlannedBatch> go, List<Integer> goIndex, List<Held> held, Use use) {
    }

    /** The key of an exact set of identifiers: sorted (ASCII order), comma-joined. Names hold no commas. */
    public static String setKey(Collection<String> identifiers) {
        return String.join(",", new TreeSet<>(identifiers));
    }

    /**
     * @param registeredDomains the registered domain of each candidate's domain id (absent: not counted)
     */
    public static Allocation allocate(List<Order> orders, Map<Long, String> registeredDomains, Ledger ledger) {
        Instant now = ledger.now();
        Map<String, List<Instant>> byDomain = copy(ledger.certificatesByDomain());
        Map<String, List<Instant>> bySet = copy(ledger.certificatesBySet());
        List<PlannedBatch> go = new ArrayList<>();
        List<Integer> goIndex = new ArrayList<>();
        List<Held> held = new ArrayList<>();
        long staging = 0;
        long production = 0;
        long exempt = 0;
        for (int index = 0; index < orders.size(); index++) {
            Order o = orders.get(index);
            PlannedBatch b = o.batch();
            OrderWindow full = o.rehearsed() && ledger.staging().left(now, staging) <= 0 ? ledger.staging()
                    : !o.ariExempt() && ledger.production().left(now, production) <= 0 ? ledger.production() : null;
            if (full != null) {
                Instant until = full.freeAt(now, full == ledger.staging() ? staging : production);
                b.members().forEach(c -> held.add(new Held(c.domainId(), full.reason(), full.detail(), until)));
                continue;
            }
            List<Candidate> keep = o.ariExempt() ? b.members()
                    : withinDomainLimits(b, registeredDomains, byDomain, ledger, held);
            if (keep.isEmpty()) {
                continue;
            }
            String key = setKey(keep.stream().map(Candidate::identifier).toList());
            List<Instant> setTimes = bySet.getOrDefault(key, List.of());
            if (!o.ariExempt() && SlidingWindow.left(setTimes, ledger.certificatesPerSet(), CERTIFICATE_WINDOW, now) == 0) {
                Instant until = SlidingWindow.freeAt(setTimes, ledger.certificatesPerSet(), CERTIFICATE_WINDOW, now);
                for (Candidate c : keep) {
                    held.add(new Held(c.domainId(), CaLimit.EXACT_SET.budgetReason(), "the limit of "
                            + ledger.certificatesPerSet() + " certificates per 7 days for this exact set of "
                            + keep.size() + " name(s) is used up; the set waits until its oldest certificate leaves "
                            + "the window", until));
                }
                continue;
            }
            for (String rd : domainsOf(keep, registeredDomains)) {
                byDomain.computeIfAbsent(rd, k -> new ArrayList<>()).add(now);
            }
            bySet.computeIfAbsent(key, k -> new ArrayList<>()).add(now);
            go.add(keep.size() == b.members().size() ? b : new PlannedBatch(b.customer(), keep));
            goIndex.add(index);
            if (o.rehearsed()) {
                staging++;
            }
            if (o.ariExempt()) {
                exempt++;
            } else {
                production++;
            }
        }
        Use use = new Use(goIndex.stream().filter(i -> orders.get(i).rehearsed()).count(),
                goIndex.stream().filter(i -> !orders.get(i).ariExempt()).count(), exempt);
        return new Allocation(go, goIndex, held, use);
    }

    /** The members whose registered domains have room for one more certificate; the others are held. */
    private static List<Candidate> withinDomainLimits(PlannedBatch b, Map<Long, String> registeredDomains,
                                                      Map<String, List<Instant>> byDomain, Ledger ledger,
                                                      List<Held> held) {
        Set<String> over = new TreeSet<>();
        for (String rd : domainsOf(b.members(), registeredDomains)) {
            if (SlidingWindow.left(byDomain.getOrDefault(rd, List.of()), ledger.certificatesPerDomain(),
                    CERTIFICATE_WINDOW, ledger.now()) == 0) {
                over.add(rd);
            }
        }
        List<Candidate> keep = new ArrayList<>();
        for (Candidate c : b.members()) {
            String rd = registeredDomains.get(c.domainId());
            if (rd != null && over.contains(rd)) {
                held.add(new Held(c.domainId(), CaLimit.CERTIFICATES_PER_DOMAIN.budgetReason(), "the limit of "
                        + ledger.certificatesPerDomain() + " certificates per 7 days for " + rd
                        + " is used up; the name goes when the window frees",
                        SlidingWindow.freeAt(byDomain.getOrDefault(rd, List.of()), ledger.certificatesPerDomain(),
                                CERTIFICATE_WINDOW, ledger.now())));
            } else {
                keep.add(c);
            }
        }
        return keep;
    }

    private static Set<String> domainsOf(List<Candidate> members, Map<Long, String> registeredDomains) {
        Set<String> out = new LinkedHashSet<>();
        for (Candidate c : members) {
            String rd = registeredDomains.get(c.domainId());
            if (rd != null) {
                out.add(rd);
            }
        }
        return out;
    }

    private static Map<String, List<Instant>> copy(Map<String, List<Instant>> m) {
        Map<String, List<Instant>> out = new HashMap<>();
        m.forEach((k, v) -> out.put(k, new ArrayList<>(v)));
        return out;
    }
}
