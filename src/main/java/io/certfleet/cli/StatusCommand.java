package io.certfleet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.app.Certfleet;
import io.certfleet.config.Settings;
import io.certfleet.model.CaLimitWait;
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
            StatusStore status = new StatusStore(app.store());
            FleetSnapshot fleet = status.snapshot();
            Settings.Pipeline limits = app.settings().pipeline();
            StatusStore.LimitUse use = status.limitUse(limits.certificatesPerDomainPer7d(),
                    limits.certificatesPerExactSetPer7d(), Map.of(CaEnvironment.STAGING,
                            limits.stagingFailedAuthorizationsPerHour(), CaEnvironment.PRODUCTION,
                            limits.productionFailedAuthorizationsPerHour()));
            Map<DomainState, Long> counts = fleet.domainsByState();
            List<DomainProblem> problems = app.domains().recentProblems(Math.max(0, recent));
            if (json) {
                System.out.println(json(counts, problems, fleet, limits, use));
            } else {
                table(counts, problems);
                fleetTable(fleet, limits);
                limitsTable(limits, use);
            }
            return Main.OK;
        }
    }

    private static String json(Map<DomainState, Long> counts, List<DomainProblem> problems, FleetSnapshot fleet,
                               Settings.Pipeline limits, StatusStore.LimitUse use) throws IOException {
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
                "new_orders_left", Math.max(0, limit(limits, env) - used), "limit", limit(limits, env))));
        out.put("budget", budget);
        out.put("limits", limitsJson(limits, use));
        out.put("certificates", Map.of("valid", fleet.certificatesValid(), "expiring_7d",
                fleet.certificatesExpiringIn7Days(), "expiring_30d", fleet.certificatesExpiringIn30Days()));
        return new ObjectMapper().writeValueAsString(out);
    }

    /** The configured new-orders-per-account limit in 3 hours (Let's Encrypt: 300 production, 1,500 staging). */
    static long limit(Settings.Pipeline limits, CaEnvironment env) {
        return env == CaEnvironment.PRODUCTION ? limits.productionOrdersPer3h() : limits.stagingOrdersPer3h();
    }

    /** Every other limit: its value, how close the fleet is, and the CA's own 429 waits. */
    private static Map<String, Object> limitsJson(Settings.Pipeline limits, StatusStore.LimitUse use) {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> domain = new LinkedHashMap<>();
        domain.put("limit", limits.certificatesPerDomainPer7d());
        domain.put("registered_domains_at_limit", use.domainsAtLimit());
        domain.put("most_used", use.mostUsedDomain().map(e -> Map.of("registered_domain", e.getKey(),
                "certificates_7d", e.getValue(), "left", Math.max(0, limits.certificatesPerDomainPer7d() - e.getValue())))
                .orElse(null));
        out.put("certificates_per_domain_7d", domain);
        out.put("certificates_per_exact_set_7d", Map.of("limit", limits.certificatesPerExactSetPer7d(),
                "sets_at_limit", use.setsAtLimit()));
        Map<String, Object> failed = new LinkedHashMap<>();
        failed.put("staging", Map.of("limit", limits.stagingFailedAuthorizationsPerHour(), "names_at_limit",
                use.namesAtFailedLimit().getOrDefault(CaEnvironment.STAGING, 0L)));
        failed.put("production", Map.of("limit", limits.productionFailedAuthorizationsPerHour(), "names_at_limit",
                use.namesAtFailedLimit().getOrDefault(CaEnvironment.PRODUCTION, 0L)));
        out.put("failed_authorizations_per_hour", failed);
        out.put("pause_guard", Map.of("failures", limits.pauseGuardFailures(), "names_stopped", use.pauseGuardStopped(),
                "names_paused_by_ca", use.pausedByCa(), "longest_run_of_failures", use.longestStreak()));
        List<Map<String, Object>> waits = new ArrayList<>();
        for (CaLimitWait w : use.waits()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("environment", w.environment().wire());
            m.put("limit", w.limit().wire());
            m.put("scope", w.scope().wire());
            m.put("subject", w.subject());
            m.put("until", w.until().toString());
            waits.add(m);
        }
        out.put("ca_waits", waits);
        return out;
    }

    private static void limitsTable(Settings.Pipeline limits, StatusStore.LimitUse use) {
        System.out.printf("Certificates per registered domain (7 d, limit %,d): %,d domain(s) at the limit%s%n",
                limits.certificatesPerDomainPer7d(), use.domainsAtLimit(), use.mostUsedDomain()
                        .map(e -> "; most used " + e.getKey() + " " + e.getValue()).orElse(""));
        System.out.printf("Certificates per exact set (7 d, limit %,d): %,d set(s) at the limit%n",
                limits.certificatesPerExactSetPer7d(), use.setsAtLimit());
        System.out.printf("Failed authorizations per name per hour: staging %,d name(s) at %,d, production %,d at %,d%n",
                use.namesAtFailedLimit().getOrDefault(CaEnvironment.STAGING, 0L),
                limits.stagingFailedAuthorizationsPerHour(),
                use.namesAtFailedLimit().getOrDefault(CaEnvironment.PRODUCTION, 0L),
                limits.productionFailedAuthorizationsPerHour());
        System.out.printf("Pause guard (%,d failures in a row): %,d name(s) stopped, %,d paused by the CA, longest run "
                + "now %,d (certfleet release NAME... / --reason PAUSE_GUARD)%n", limits.pauseGuardFailures(),
                use.pauseGuardStopped(), use.pausedByCa(), use.longestStreak());
        if (!use.waits().isEmpty()) {
            System.out.println("The CA's 429 waits:");
            for (CaLimitWait w : use.waits()) {
                System.out.printf("  %-11s %-24s %-18s %-30s until %s%n", w.environment().wire(), w.limit().wire(),
                        w.scope().wire(), w.subject().isEmpty() ? "-" : w.subject(), w.until());
            }
        }
    }

    private static void fleetTable(FleetSnapshot fleet, Settings.Pipeline limits) {
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
                "Budget %-11s %,d of %,d new orders used in the last 3 h%n", env.wire(), used, limit(limits, env)));
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
