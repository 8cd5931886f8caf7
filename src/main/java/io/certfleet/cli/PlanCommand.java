package io.certfleet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.app.Certfleet;
import io.certfleet.app.Issuance;
import io.certfleet.config.Settings;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.FleetSnapshot;
import io.certfleet.pipeline.Plan;
import io.certfleet.store.StatusStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Show what the next run would do, without contacting any CA or DNS server: the orders it "
                + "would place (if every pre-check passes), names held back with their reason and next attempt, "
                + "and the new-order budget it would use. Names held for a limit show their reason: BUDGET_* (certfleet's "
                + "ledger), RATE_LIMITED_* (the CA's 429), PAUSE_GUARD (stopped until released)."})
final class PlanCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @picocli.CommandLine.Mixin
    TableOrJson output;

    @Override
    public Integer call() throws Exception {
        boolean json = output.json();
        try (Certfleet app = Certfleet.open(main.loadSettings())) {
            Plan plan = Issuance.plan(app, Clock.systemUTC());
            FleetSnapshot fleet = new StatusStore(app.store()).snapshot();
            var waiting = app.domains().recentProblems(Integer.MAX_VALUE).stream()
                    .filter(p -> p.nextAttempt().map(t -> t.isAfter(plan.at())).orElse(true)).toList();
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("at", plan.at().toString());
                m.put("due", plan.due());
                m.put("renewals_due", plan.renewalsDue());
                m.put("to_precheck", plan.toPrecheck());
                m.put("skipped_fresh", plan.fresh());
                m.put("wildcards_held", plan.wildcardsHeld());
                m.put("held_for_budget", plan.heldForBudget());
                List<Map<String, Object>> orders = new ArrayList<>();
                for (Plan.Order o : plan.orders()) {
                    Map<String, Object> x = new LinkedHashMap<>();
                    x.put("environment", o.environment().wire());
                    x.put("customer", o.customer().orElse(null));
                    x.put("names", o.names());
                    orders.add(x);
                }
                m.put("orders", orders);
                List<Map<String, Object>> held = new ArrayList<>();
                for (var p : waiting) {
                    Map<String, Object> x = new LinkedHashMap<>();
                    x.put("name", p.name());
                    x.put("state", p.state().wire());
                    x.put("reason", p.reason().orElse(null));
                    x.put("next_attempt", p.nextAttempt().map(Object::toString).orElse(null));
                    held.add(x);
                }
                m.put("held_back", held);
                m.put("budget", budget(plan, fleet, app.settings().pipeline()));
                System.out.println(new ObjectMapper().writeValueAsString(m));
            } else {
                System.out.printf("%,d names due (%,d from renewals): %,d to pre-check, %,d fresh (no rehearsal), "
                        + "%,d wildcards wait for DNS-01%n", plan.due(), plan.renewalsDue(), plan.toPrecheck(),
                        plan.fresh(), plan.wildcardsHeld().size());
                System.out.printf("%-11s %-20s %6s  %s%n", "ENV", "CUSTOMER", "NAMES", "FIRST NAME");
                for (Plan.Order o : plan.orders()) {
                    System.out.printf("%-11s %-20s %6d  %s%n", o.environment().wire(), o.customer().orElse("-"),
                            o.names().size(), o.names().get(0));
                }
                System.out.printf("%,d names held back until a later run%n", waiting.size());
                waiting.stream().limit(20).forEach(p -> System.out.printf("  %-40s %-11s %-24s %s%n", p.name(),
                        p.state().wire(), p.reason().orElse("-"), p.nextAttempt().map(t -> "until " + t).orElse("")));
                budget(plan, fleet, app.settings().pipeline())
                        .forEach((env, b) -> System.out.println("budget " + env + ": " + b));
            }
            return Main.OK;
        }
    }

    private static Map<String, Object> budget(Plan plan, FleetSnapshot fleet, Settings.Pipeline limits) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (CaEnvironment env : CaEnvironment.values()) {
            long used = fleet.newOrdersLast3h().getOrDefault(env, 0L);
            // every staging order is promoted once: production gets the staging orders plus the fresh ones
            long planned = env == CaEnvironment.STAGING ? plan.orders(CaEnvironment.STAGING)
                    : plan.orders(CaEnvironment.STAGING) + plan.orders(CaEnvironment.PRODUCTION);
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("orders_planned", planned);
            // ARI renewals inside their window spend no production order at Let's Encrypt
            b.put("orders_counted", env == CaEnvironment.STAGING ? plan.spend().stagingOrders()
                    : plan.spend().productionOrders());
            if (env == CaEnvironment.PRODUCTION) {
                b.put("orders_ari_exempt", plan.spend().ariExemptProductionOrders());
            }
            b.put("new_orders_used_last_3h", used);
            b.put("new_orders_left", Math.max(0, StatusCommand.limit(limits, env) - used));
            out.put(env.wire(), b);
        }
        return out;
    }
}
