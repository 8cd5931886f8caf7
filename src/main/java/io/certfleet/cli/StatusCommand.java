package io.certfleet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.app.Certfleet;
import io.certfleet.model.DomainProblem;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainState;
import io.certfleet.model.FleetSnapshot;
import io.certfleet.store.StatusStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show domains per state and the names that most recently failed.")
final class StatusCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @picocli.CommandLine.Mixin
    TableOrJson output;

    @Option(names = "--recent", defaultValue = "10", description = "how many recently failed names to list")
    int recent;

    @Override
    public Integer call() throws IOException {
        boolean json = output.json();
        try (Certfleet app = Certfleet.open(main.loadSettings())) {
            FleetSnapshot fleet = new StatusStore(app.store()).snapshot();
            Map<DomainState, Long> counts = fleet.domainsByState();
            List<DomainProblem> problems = app.domains().recentProblems(Math.max(0, recent));
            if (json) {
                System.out.println(json(counts, problems, fleet));
            } else {
                table(counts, problems);
                fleetTable(fleet);
            }
            return Main.OK;
        }
    }

    private static String json(Map<DomainState, Long> counts, List<DomainProblem> problems, FleetSnapshot fleet)
            throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Long> states = new LinkedHashMap<>();
        counts.forEach((k, v) -> states.put(k.wire(), v));
        out.put("total", counts.values().stream().mapToLong(Long::longValue).sum());
        out.put("states", states);
        List<Map<String, Object>> recent = new ArrayList<>();
        for (DomainProblem p : problems) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", p.name());
            m.put("state", p.state().wire());
            m.put("reason", p.reason().orElse(null));
            m.put("detail", p.detail().orElse(null));
            m.put("since", p.since().toString());
            m.put("next_attempt", p.nextAttempt().map(Object::toString).orElse(null));
            recent.add(m);
        }
        out.put("recent_failures", recent);
        out.put("held_back_by_reason", fleet.heldBackByReason());
        List<Map<String, Object>> batches = new ArrayList<>();
        for (FleetSnapshot.InFlight b : fleet.batchesInFlight()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("environment", b.environment().wire());
            m.put("state", b.state().wire());
            m.put("count", b.count());
            m.put("next_due", b.nextDue().map(Object::toString).orElse(null));
            batches.add(m);
        }
        out.put("batches_in_flight", batches);
        Map<String, Object> budget = new LinkedHashMap<>();
        fleet.newOrdersLast3h().forEach((env, used) -> budget.put(env.wire(), Map.of("new_orders_last_3h", used,
                "new_orders_left", Math.max(0, limit(env) - used), "limit", limit(env))));
        out.put("budget", budget);
        out.put("certificates", Map.of("valid", fleet.certificatesValid(), "expiring_7d",
                fleet.certificatesExpiringIn7Days(), "expiring_30d", fleet.certificatesExpiringIn30Days()));
        return new ObjectMapper().writeValueAsString(out);
    }

    /** Let's Encrypt's new-orders-per-account limit in 3 hours. */
    static long limit(CaEnvironment env) {
        return env == CaEnvironment.PRODUCTION ? 300 : 1500;
    }

    private static void fleetTable(FleetSnapshot fleet) {
        if (!fleet.heldBackByReason().isEmpty()) {
            System.out.println();
            System.out.println("Held back by reason:");
            fleet.heldBackByReason().forEach((k, v) -> System.out.printf("  %-40s %,8d%n", k, v));
        }
        System.out.println();
        System.out.println("Batches in flight:" + (fleet.batchesInFlight().isEmpty() ? " none" : ""));
        for (FleetSnapshot.InFlight b : fleet.batchesInFlight()) {
            System.out.printf("  %-11s %-12s %,6d%s%n", b.environment().wire(), b.state().wire(), b.count(),
                    b.nextDue().map(t -> "  (next due " + t + ")").orElse(""));
        }
        System.out.println();
        fleet.newOrdersLast3h().forEach((env, used) -> System.out.printf(
                "Budget %-11s %,d of %,d new orders used in the last 3 h%n", env.wire(), used, limit(env)));
        System.out.printf("Certificates: %,d valid, %,d expire within 7 days, %,d within 30 days%n",
                fleet.certificatesValid(), fleet.certificatesExpiringIn7Days(), fleet.certificatesExpiringIn30Days());
    }

    private static void table(Map<DomainState, Long> counts, List<DomainProblem> problems) {
        System.out.printf("%-12s %10s%n", "STATE", "DOMAINS");
        counts.forEach((k, v) -> System.out.printf("%-12s %,10d%n", k.wire(), v));
        System.out.printf("%-12s %,10d%n", "total", counts.values().stream().mapToLong(Long::longValue).sum());
        if (!problems.isEmpty()) {
            System.out.println();
            System.out.println("Recently failed:");
            for (DomainProblem p : problems) {
                System.out.printf("  %-40s %-11s %-24s %s%s%n", p.name(), p.state().wire(), p.reason().orElse("-"),
                        p.detail().orElse(""), p.nextAttempt().map(t -> " (next attempt " + t + ")").orElse(""));
            }
        }
    }
}
