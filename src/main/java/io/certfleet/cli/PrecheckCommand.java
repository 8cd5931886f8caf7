package io.certfleet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.certfleet.caa.CaaChecker;
import io.certfleet.caa.CaaSettings;
import io.certfleet.caa.ProgressListener;
import io.certfleet.config.Settings;
import io.certfleet.config.SettingsLoader;
import io.certfleet.model.NameserverAnswer;
import io.certfleet.model.PrecheckReason;
import io.certfleet.model.PrecheckResult;
import io.certfleet.model.PrecheckRun;
import io.certfleet.model.PrecheckVerdict;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code certfleet precheck}: predicts Let's Encrypt's CAA verdict for names given as arguments or in a file.
 * Exit 0 when every name is allowed, 1 when any is blocked or at-risk, 2 on usage or configuration errors.
 */
@Command(name = "precheck", mixinStandardHelpOptions = true,
        description = "Predict Let's Encrypt's CAA verdict (Boulder's rules) for each NAME.",
        exitCodeOnInvalidInput = 2, exitCodeOnExecutionException = 2)
public final class PrecheckCommand implements Callable<Integer> {

    /**
     * Seam for the stored account: given {@code staging} or {@code production}, the account URL to use when
     * {@code --account-uri} is not given. The foundation wires this to the database; by default there is none,
     * so records with {@code accounturi} cannot match.
     */
    public static volatile Function<String, Optional<String>> storedAccountUri = env -> Optional.empty();

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s)?");

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NAME", arity = "0..*", description = "Names to check (wildcards as *.example.com).")
    List<String> names = new ArrayList<>();

    @Option(names = "--file", paramLabel = "FILE|-", description = "Read names from FILE, one per line ('-' = stdin;"
            + " blank lines and lines starting with # are skipped).")
    String file;

    @Option(names = "--resolver", paramLabel = "HOST[:PORT]", description = "Recursive resolver (repeatable)."
            + " Default: precheck.resolvers, else the system's resolvers.")
    List<String> resolvers = new ArrayList<>();

    @Option(names = "--sweep", description = "Also ask every authoritative nameserver directly (at-risk when they"
            + " fail or disagree).")
    boolean sweep;

    @Option(names = "--format", paramLabel = "table|json|csv", defaultValue = "table",
            description = "Output format (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--concurrency", paramLabel = "N",
            description = "Names checked at once (default: precheck.concurrency, 256).")
    Integer concurrency;

    @Option(names = "--environment", paramLabel = "staging|production", defaultValue = "production",
            description = "Whose stored account URL to match accounturi against (default: ${DEFAULT-VALUE}).")
    String environment;

    @Option(names = "--account-uri", paramLabel = "URI", description = "Our ACME account URL (overrides the stored"
            + " account of --environment).")
    String accountUri;

    @Option(names = "--method", paramLabel = "http-01|dns-01|tls-alpn-01",
            description = "Challenge type the order will use (default: precheck.method, http-01). Wildcard names"
                    + " are always checked for dns-01, the only method the CA allows for them.")
    String method;

    @Option(names = "--ca-identity", paramLabel = "DOMAIN", description = "CAA issuer domain of the CA (repeatable;"
            + " default: precheck.ca-identity, letsencrypt.org). The daemon uses the directory's"
            + " meta.caaIdentities instead when the CA publishes them.")
    List<String> caIdentities = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "DURATION",
            description = "Per-try timeout, e.g. 1s or 500ms (default: precheck.timeout, 1s).")
    String timeout;

    @Option(names = "--tries", paramLabel = "N", description = "Tries per query; only"
            + " timeouts are retried (default: precheck.tries, 3).")
    Integer tries;

    @Option(names = "--dnssec-anchor", paramLabel = "FILE", description = "Validate DNSSEC ourselves with this"
            + " trust-anchor file, e.g. config/root-anchors.txt (default: precheck.dnssec-anchor, none).")
    Path dnssecAnchor;

    @Option(names = "--nameserver-port", paramLabel = "PORT", hidden = true)
    Integer nameserverPort;

    @Option(names = "--canary", paramLabel = "NAME", description = "Resolver health-check name (repeatable;"
            + " default: precheck.canary, com).")
    List<String> canaries = new ArrayList<>();

    private final Function<String, Optional<String>> accountLookup;
    private final Supplier<Settings.Precheck> configured;

    /** Built-in defaults, no stored account. */
    public PrecheckCommand() {
        this(null);
    }

    /** Built-in defaults for the {@code precheck.*} settings. */
    public PrecheckCommand(Function<String, Optional<String>> accountLookup) {
        this(accountLookup, () -> SettingsLoader.load(Optional.empty(), Map.of(), Map.of()).settings().precheck());
    }

    /**
     * @param accountLookup the stored account URL per environment; {@code null} uses {@link #storedAccountUri}
     * @param configured    the {@code precheck.*} settings (file, environment, {@code --set}); flags beat them
     */
    public PrecheckCommand(Function<String, Optional<String>> accountLookup, Supplier<Settings.Precheck> configured) {
        this.accountLookup = accountLookup;
        this.configured = Objects.requireNonNull(configured);
    }

    @Override
    public Integer call() throws Exception {
        CaaSettings settings = settings();
        List<String> inputs = inputs();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PrecheckRun run;
        try (CaaChecker checker = CaaChecker.create(settings)) {
            ProgressLine progress = Terminal.stderrIsTerminal() ? new ProgressLine(err) : null;
            run = checker.check(inputs, progress == null ? ProgressListener.NONE : progress);
            if (progress != null) {
                progress.finish();
            }
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e, null, null);
        }
        switch (format) {
            case "json" -> printJson(out, run);
            case "csv" -> printCsv(out, run);
            default -> printTable(out, run);
        }
        if (run.degraded()) {
            err.println("WARNING: resolver degraded (" + run.degradedReason().orElse("") + "); "
                    + run.unchecked().size() + " name(s) were not checked and stay pending");
        }
        out.flush();
        err.flush();
        return run.allAllowed() ? 0 : 1;
    }

    CaaSettings settings() {
        Settings.Precheck cfg = configured.get();
        if (method == null) {
            method = cfg.method();
        }
        if (concurrency == null) {
            concurrency = cfg.concurrency();
        }
        if (tries == null) {
            tries = cfg.tries();
        }
        if (resolvers.isEmpty()) {
            resolvers = new ArrayList<>(cfg.resolvers());
        }
        if (caIdentities.isEmpty()) {
            caIdentities = List.of(cfg.caIdentity());
        }
        if (canaries.isEmpty()) {
            canaries = cfg.canary();
        }
        if (dnssecAnchor == null) {
            dnssecAnchor = cfg.dnssecAnchor().orElse(null);
        }
        if (nameserverPort == null) {
            nameserverPort = cfg.sweepPort();
        }
        if (!List.of("table", "json", "csv").contains(format)) {
            throw usage("--format must be table, json or csv, not '" + format + "'");
        }
        if (!List.of("staging", "production").contains(environment)) {
            throw usage("--environment must be staging or production, not '" + environment + "'");
        }
        if (!CaaSettings.VALIDATION_METHODS.contains(method)) {
            throw usage("--method must be one of " + String.join(", ", CaaSettings.VALIDATION_METHODS) + ", not '"
                    + method + "'");
        }
        for (String r : resolvers) {
            try {
                CaaSettings.parseHostPort(r, 53);
            } catch (IllegalArgumentException e) {
                throw usage("--resolver: " + e.getMessage());
            }
        }
        if (concurrency < 1 || concurrency > 10_000) {
            throw usage("--concurrency must be 1..10000, not " + concurrency);
        }
        if (tries < 1 || tries > 10) {
            throw usage("--tries must be 1..10, not " + tries);
        }
        if (dnssecAnchor != null && !Files.isReadable(dnssecAnchor)) {
            throw usage("--dnssec-anchor: cannot read " + dnssecAnchor);
        }
        Duration perTry = cfg.timeout();
        if (timeout != null) {
            Matcher m = DURATION.matcher(timeout.strip().toLowerCase(Locale.ROOT));
            if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
                throw usage("--timeout must be a positive duration like 1s or 500ms, not '" + timeout + "'");
            }
            perTry = "ms".equals(m.group(2)) ? Duration.ofMillis(Long.parseLong(m.group(1)))
                    : Duration.ofSeconds(Long.parseLong(m.group(1)));
        }
        Optional<String> account = Optional.ofNullable(accountUri).filter(s -> !s.isBlank())
                .or(() -> Objects.requireNonNullElse(accountLookup, storedAccountUri).apply(environment));
        try {
            return new CaaSettings(resolvers, perTry, tries, concurrency, sweep, nameserverPort, caIdentities, account,
                    method, Optional.ofNullable(dnssecAnchor), canaries, cfg.degradedShare(), cfg.degradedMinDomains(),
                    Optional.empty());
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    List<String> inputs() {
        List<String> all = new ArrayList<>(names);
        if (file != null) {
            try (BufferedReader r = file.equals("-")
                    ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                    : Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
                String line;
                while ((line = r.readLine()) != null) {
                    String t = line.strip();
                    if (!t.isEmpty() && !t.startsWith("#")) {
                        all.add(t);
                    }
                }
            } catch (IOException | RuntimeException e) {
                throw usage("--file: cannot read " + file + ": " + e.getMessage());
            }
        }
        if (all.isEmpty()) {
            throw usage("give at least one NAME or --file FILE");
        }
        return all;
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    // ---- output ------------------------------------------------------------------------------------------------

    static void printJson(PrintWriter out, PrecheckRun run) {
        ObjectMapper mapper = new ObjectMapper();
        for (PrecheckResult r : run.results()) {
            ObjectNode o = mapper.createObjectNode();
            o.put("name", r.displayName());
            o.put("input", r.input());
            o.put("wildcard", r.name().map(n -> n.wildcard()).orElse(false));
            o.put("verdict", r.verdict().wire());
            o.put("reason", r.reason().name());
            if (r.level().isPresent()) {
                o.put("level", r.level().get());
            } else {
                o.putNull("level");
            }
            o.put("detail", r.detail());
            o.put("elapsed_ms", r.elapsedMs());
            o.put("unchecked", r.unchecked());
            o.set("evidence", io.certfleet.pipeline.EvidenceJson.node(r.evidence()));
            out.println(o.toString());
        }
    }

    static void printCsv(PrintWriter out, PrecheckRun run) {
        out.println("name,verdict,reason,level,rcode,ede,records,elapsed_ms,detail");
        for (PrecheckResult r : run.results()) {
            out.println(String.join(",", csv(r.displayName()), r.verdict().wire(), r.reason().name(),
                    csv(r.level().orElse("")), csv(r.evidence().rcode().orElse("")),
                    csv(r.evidence().ede().orElse("")), csv(String.join(" | ", r.evidence().records())),
                    Long.toString(r.elapsedMs()), csv(r.detail())));
        }
    }

    static String csv(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }

    static void printTable(PrintWriter out, PrecheckRun run) {
        Map<PrecheckVerdict, Map<PrecheckReason, List<PrecheckResult>>> groups = new TreeMap<>();
        for (PrecheckResult r : run.results()) {
            groups.computeIfAbsent(r.verdict(), k -> new TreeMap<>())
                    .computeIfAbsent(r.reason(), k -> new ArrayList<>()).add(r);
        }
        int width = run.results().stream().mapToInt(r -> r.displayName().length()).max().orElse(4);
        width = Math.min(Math.max(width, 4), 60);
        for (PrecheckVerdict v : List.of(PrecheckVerdict.BLOCKED, PrecheckVerdict.AT_RISK, PrecheckVerdict.ALLOWED)) {
            Map<PrecheckReason, List<PrecheckResult>> byReason = groups.get(v);
            if (byReason == null) {
                continue;
            }
            for (Map.Entry<PrecheckReason, List<PrecheckResult>> e : byReason.entrySet()) {
                out.println(v.wire().toUpperCase(Locale.ROOT) + " " + e.getKey().name() + " (" + e.getValue().size()
                        + ")");
                for (PrecheckResult r : e.getValue()) {
                    out.println(String.format("  %-" + width + "s  %-20s  %s", r.displayName(),
                            r.level().orElse("-"), r.detail()));
                }
            }
        }
        Map<PrecheckVerdict, Integer> counts = run.countsByVerdict();
        out.println();
        out.println("allowed " + counts.get(PrecheckVerdict.ALLOWED) + ", blocked " + counts.get(PrecheckVerdict.BLOCKED)
                + ", at-risk " + counts.get(PrecheckVerdict.AT_RISK) + " of " + run.results().size() + " names in "
                + run.elapsedMs() + " ms" + (run.degraded() ? " (resolver DEGRADED: " + run.degradedReason().orElse("")
                + ")" : ""));
        StringBuilder sb = new StringBuilder();
        run.countsByReason().forEach((k, n) -> sb.append(sb.length() == 0 ? "" : ", ").append(k.name()).append(' ')
                .append(n));
        out.println(sb);
    }

    /** The progress line on a terminal: redrawn at most five times a second on stderr. */
    static final class ProgressLine implements ProgressListener {
        private final PrintWriter err;
        private volatile long lastDraw;
        private volatile boolean drawn;

        ProgressLine(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void onProgress(Progress p) {
            long now = System.nanoTime();
            if (p.done() != p.total() && now - lastDraw < 200_000_000L) {
                return;
            }
            synchronized (this) {
                lastDraw = now;
                drawn = true;
                err.print(String.format("\r%d/%d names, %d blocked, %d at-risk, %.0f names/s   ", p.done(), p.total(),
                        p.blocked(), p.atRisk(), p.namesPerSecond()));
                err.flush();
            }
        }

        synchronized void finish() {
            if (drawn) {
                err.println();
                err.flush();
            }
        }
    }
}
