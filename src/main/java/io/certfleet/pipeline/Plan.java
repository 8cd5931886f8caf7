package io.certfleet.pipeline;

import io.certfleet.model.CaEnvironment;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the next run would do, computed without contacting any CA or DNS server: the due names (including those
 * of certificates due for renewal), how many would be pre-checked or skip it as fresh, which wildcards wait for
 * DNS-01, the orders they would form if every pre-check passed (a blocked name only makes an order smaller), the
 * names held back for a limit by reason ({@code heldForBudget}: {@code BUDGET_*}, {@code RATE_LIMITED_*},
 * {@code PAUSE_GUARD}), and the orders they would spend.
 */
public record Plan(Instant at, int due, int renewalsDue, int toPrecheck, int fresh, List<String> wildcardsHeld,
                   List<Order> orders, java.util.Map<String, Integer> heldForBudget, Spend spend) {

    /**
     * The new orders the planned batches spend: staging rehearsals, production orders counted against the
     * account's window, and production renewals exempt by ARI (they replace a certificate inside its window).
     */
    public record Spend(long stagingOrders, long productionOrders, long ariExemptProductionOrders) {
    }

    /** One order the run would place. */
    public record Order(CaEnvironment environment, Optional<String> customer, List<String> names) {
    }

    public long orders(CaEnvironment env) {
        return orders.stream().filter(o -> o.environment() == env).count();
    }
}
