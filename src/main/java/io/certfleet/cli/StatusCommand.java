package io.certfleet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.app.Certfleet;
import io.certfleet.model.DomainProblem;
import io.certfleet.model.DomainState;
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

    @Option(names = "--format", defaultValue = "table", description = "table or json")
    String format;

    @Option(names = "--recent", defaultValue = "10", description = "how many recently failed names to list")
    int recent;

    @Override
    public Integer call() throws IOException {
        if (!format.equals("table") && !format.equals("json")) {
            throw new UsageException("--format must be table or json, not '" + format + "'");
        }
        try (Certfleet app = Certfleet.open(main.loadSettings())) {
            Map<DomainState, Long> counts = app.domains().stateCounts();
            List<DomainProblem> problems = app.domains().recentProblems(Math.max(0, recent));
            if (format.equals("json")) {
                System.out.println(json(counts, problems));
            } else {
                table(counts, problems);
            }
            return Main.OK;
        }
    }

    private static String json(Map<DomainState, Long> counts, List<DomainProblem> problems) throws IOException {
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
        return new ObjectMapper().writeValueAsString(out);
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
