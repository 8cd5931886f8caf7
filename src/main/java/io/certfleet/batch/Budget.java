package io.certfleet.batch;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Let's Encrypt's limits, applied before the CA has to: given the orders a run plans, what the ledger says was
 * already spent, and the limits, decides which orders go tonight and which names wait, with the reason
 * ({@code BUDGET_NEW_ORDERS}, {@code BUDGET_CERTIFICATES_PER_DOMAIN}) and the earliest time they can go.
 * Pure: no I/O, no clock.
 *
 * <p>Every planned order becomes at most one certificate; a certificate counts once for every registered domain
 * among its names. One over-limit registered domain would make the CA refuse the whole order, so its names are
 * taken out and the rest of the order goes.
 */
public final class Budget {
    private Budget() {
    }

    /** Orders left and certificates already issued per registered domain, from the ledger. */
    public record Ledger(long ordersLeft, Instant ordersFreeAt, Map<String, Long> certificatesByDomain,
                         Map<String, Instant> domainFreeAt, long certificatesPerDomainLimit) {
    }

    /** A name that waits, why, and until when. */
    public record Held(long domainId, String reason, String detail, Instant until) {
    }

    /** The orders that go (each with its index in the planned list, its names possibly fewer), and the names
     * that wait. */
    public record Allocation(List<PlannedBatch> go, List<Integer> goIndex, List<Held> held) {
    }

    /**
     * @param registeredDomains the registered domain of each candidate's domain id (absent: not counted)
     */
    public static Allocation allocate(List<PlannedBatch> planned, Map<Long, String> registeredDomains, Ledger ledger) {
        Map<String, Long> used = new HashMap<>(ledger.certificatesByDomain());
        List<PlannedBatch> go = new ArrayList<>();
        List<Integer> goIndex = new ArrayList<>();
        List<Held> held = new ArrayList<>();
        long ordersLeft = ledger.ordersLeft();
        for (int index = 0; index < planned.size(); index++) {
            PlannedBatch b = planned.get(index);
            if (ordersLeft <= 0) {
                for (Candidate c : b.members()) {
                    held.add(new Held(c.domainId(), "BUDGET_NEW_ORDERS", "the account's new-order limit for the "
                            + "3-hour window is used up; the name goes when the window frees", ledger.ordersFreeAt()));
                }
                continue;
            }
            Set<String> over = new TreeSet<>();
            Map<String, Boolean> seen = new LinkedHashMap<>();
            for (Candidate c : b.members()) {
                Optional.ofNullable(registeredDomains.get(c.domainId())).ifPresent(rd -> seen.put(rd, true));
            }
            for (String rd : seen.keySet()) {
                if (used.getOrDefault(rd, 0L) + 1 > ledger.certificatesPerDomainLimit()) {
                    over.add(rd);
                }
            }
            List<Candidate> keep = new ArrayList<>();
            for (Candidate c : b.members()) {
                String rd = registeredDomains.get(c.domainId());
                if (rd != null && over.contains(rd)) {
                    held.add(new Held(c.domainId(), "BUDGET_CERTIFICATES_PER_DOMAIN", "the limit of "
                            + ledger.certificatesPerDomainLimit() + " certificates per 7 days for " + rd
                            + " is used up; the name goes when the window frees",
                            ledger.domainFreeAt().getOrDefault(rd, Instant.EPOCH)));
                } else {
                    keep.add(c);
                }
            }
            if (keep.isEmpty()) {
                continue;
            }
            for (String rd : seen.keySet()) {
                if (!over.contains(rd)) {
                    used.merge(rd, 1L, Long::sum);
                }
            }
            go.add(new PlannedBatch(b.customer(), keep));
            goIndex.add(index);
            ordersLeft--;
        }
        return new Allocation(go, goIndex, held);
    }
}
