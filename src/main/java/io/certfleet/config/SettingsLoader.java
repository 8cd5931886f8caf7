package io.certfleet.config;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * Reads configuration once, from a Java properties file (see docs/decisions/0001-configuration-format.md),
 * overridden by {@code CERTFLEET_*} environment variables, overridden by {@code --set key=value} flags; validates
 * every key and fails with the key's name. Unknown keys in the file or flags are errors (they are typos).
 */
public final class SettingsLoader {

    private static final Pattern HOST_PORT = Pattern.compile("^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.:-]+?)(?::(\\d{1,5}))?$");

    /**
     * CERTFLEET_* variables that are not configuration keys but are read elsewhere: the configuration file's path
     * (Main), the launcher's checkout and class-data-sharing switch (bin/certfleet), the log level (logback.xml).
     * bin/demo's CERTFLEET_DEMO_* are skipped by prefix.
     */
    private static final java.util.Set<String> OTHER_ENV = java.util.Set.of("CERTFLEET_CONFIG", "CERTFLEET_HOME",
            "CERTFLEET_CDS", "CERTFLEET_LOG_LEVEL");

    /** Let's Encrypt reuses a validation without rechecking CAA only within this age (le-behaviour.md §1.6). */
    private static final Duration CA_CAA_RECHECK_AGE = Duration.ofHours(7);

    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> warnings = new ArrayList<>();
    private final Map<String, String> origin = new LinkedHashMap<>();

    private SettingsLoader() {
        for (Key k : Keys.ALL) {
            values.put(k.name(), k.defaultValue());
            origin.put(k.name(), "default");
        }
    }

    /**
     * Loads and validates.
     *
     * @param file      the properties file, or empty for defaults only
     * @param env       the environment (normally {@code System.getenv()})
     * @param overrides {@code key -> value} from the command line
     */
    public static LoadedSettings load(Optional<Path> file, Map<String, String> env, Map<String, String> overrides) {
        var loader = new SettingsLoader();
        file.ifPresent(loader::readFile);
        loader.readEnv(env);
        overrides.forEach((k, v) -> loader.put(k, v, "--set"));
        Settings settings = loader.build();
        return new LoadedSettings(settings, loader.maskedDump(), loader.warnings);
    }

    private void readFile(Path file) {
        String where = file.toString();
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(where, "configuration file does not exist or is not a regular file");
        }
        var props = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(r);
        } catch (MalformedInputException e) {
            throw new ConfigException(where, "configuration file is not valid UTF-8", e);
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException(where, "cannot read configuration file: " + e.getMessage(), e);
        }
        for (String name : new java.util.TreeSet<>(props.stringPropertyNames())) {
            put(name, props.getProperty(name), where);
        }
    }

    private void readEnv(Map<String, String> env) {
        java.util.Set<String> known = new java.util.HashSet<>(OTHER_ENV);
        Keys.ALL.forEach(k -> known.add(k.envName()));
        for (String name : new java.util.TreeSet<>(env.keySet())) {
            if (name.startsWith("CERTFLEET_") && !known.contains(name) && !name.startsWith("CERTFLEET_DEMO_")) {
                String guess = suggestion(name.substring("CERTFLEET_".length()).toLowerCase(java.util.Locale.ROOT)
                        .replace('_', '.'));
                warnings.add("environment variable " + name + " is not a certfleet setting and is ignored" + guess);
            }
        }
        for (Key k : Keys.ALL) {
            String v = env.get(k.envName());
            if (v != null) {
                values.put(k.name(), v.strip());
                origin.put(k.name(), "env " + k.envName());
            }
        }
    }

    private void put(String name, String value, String where) {
        String key = name.strip();
        if (!Keys.BY_NAME.containsKey(key)) {
            throw new ConfigException(key, "unknown configuration key (in " + where + "); known keys are listed in "
                    + "config/certfleet.example.properties" + suggestion(key));
        }
        values.put(key, value == null ? "" : value.strip());
        origin.put(key, where);
    }

    private static String suggestion(String key) {
        String best = null;
        int bestDistance = 4;
        for (String known : Keys.BY_NAME.keySet()) {
            int d = distance(key, known);
            if (d < bestDistance) {
                bestDistance = d;
                best = known;
            }
        }
        return best == null ? "" : "; did you mean '" + best + "'?";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    private Settings build() {
        Path dataDir = path("data.dir");
        var db = new Settings.Database(
                optional("db.url").map(u -> jdbcUrl("db.url", u)),
                text("db.user"),
                optional("db.password"),
                intRange("db.pool-size", 2, 200),
                duration("db.connect-timeout"),
                optional("db.embedded.data-dir").map(p -> path("db.embedded.data-dir"))
                        .orElse(dataDir.resolve("postgres")),
                port("db.embedded.port"));
        var secrets = new Settings.Secrets(
                optional("secrets.key"),
                optional("secrets.key-file").map(p -> path("secrets.key-file")).orElse(dataDir.resolve("secrets.key")));
        var acme = new Settings.Acme(
                directory("acme.staging.directory"),
                directory("acme.production.directory"),
                bool("acme.terms-agreed"),
                optional("acme.contact").map(c -> contact("acme.contact", c)),
                optional("acme.trusted-ca-file").map(p -> existingFile("acme.trusted-ca-file")),
                enumValue("acme.key-type", Settings.KeyType.class),
                duration("acme.timeout"),
                intRange("acme.sessions", 1, 32),
                intRange("acme.staging.requests-per-second", 1, 1000),
                intRange("acme.production.requests-per-second", 1, 1000),
                optional("acme.profile").map(v -> profile("acme.profile", v)));
        var pipeline = new Settings.Pipeline(
                intRange("pipeline.parallel-batches", 1, 64),
                freshFor("pipeline.fresh-for"),
                duration("pipeline.authz-reuse-margin"),
                duration("pipeline.poll-interval"),
                intRange("pipeline.max-attempts", 1, 100),
                intRange("pipeline.max-production-reorders", 0, 20),
                duration("pipeline.quarantine-backoff"),
                duration("pipeline.run-timeout"),
                intRange("budget.staging.new-orders-per-3h", 1, 1_000_000),
                intRange("budget.production.new-orders-per-3h", 1, 1_000_000),
                intRange("budget.production.certificates-per-domain-per-7d", 1, 1_000_000),
                intRange("budget.production.certificates-per-exact-set-per-7d", 1, 1_000_000),
                intRange("budget.staging.failed-authorizations-per-hour", 1, 1_000_000),
                intRange("budget.production.failed-authorizations-per-hour", 1, 1_000_000),
                intRange("budget.pause-guard-failures", 1, 1_000_000));
        var batch = new Settings.Batch(intRange("batch.max-names", 1, 100),
                enumValue("batch.grouping", Settings.Grouping.class));
        var precheck = new Settings.Precheck(
                hostPorts("precheck.resolvers"),
                duration("precheck.timeout"),
                intRange("precheck.tries", 1, 10),
                intRange("precheck.concurrency", 1, 10_000),
                bool("precheck.sweep"),
                bool("precheck.hold-at-risk"),
                list("precheck.canary"),
                text("precheck.ca-identity"),
                oneOf("precheck.method", List.of("http-01", "dns-01", "tls-alpn-01")),
                share("precheck.degraded-share"),
                intRange("precheck.degraded-min-domains", 1, 1_000_000),
                optional("precheck.dnssec-anchor").map(p -> existingFile("precheck.dnssec-anchor")),
                port("precheck.sweep-port"));
        var http = new Settings.Http01(text("http01.bind"), port("http01.port"));
        var schedule = new Settings.Schedule(cron("schedule.cron"), zone("schedule.time-zone"),
                duration("schedule.window"));
        var ops = new Settings.Ops(text("ops.bind"), port("ops.port"));
        return new Settings(dataDir, db, secrets, acme, batch, precheck, pipeline, http, ops, schedule);
    }

    private String raw(String key) {
        return values.get(key);
    }

    private Optional<String> optional(String key) {
        String v = raw(key);
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v);
    }

    private String text(String key) {
        return optional(key).orElseThrow(() -> new ConfigException(key, "must not be empty (set in " + origin.get(key) + ")"));
    }

    private ConfigException bad(String key, String expected) {
        return new ConfigException(key, "'" + raw(key) + "' (from " + origin.get(key) + ") is not " + expected);
    }

    private Path path(String key) {
        try {
            return Path.of(text(key));
        } catch (java.nio.file.InvalidPathException e) {
            throw bad(key, "a valid path");
        }
    }

    private Path existingFile(String key) {
        Path p = path(key);
        if (!Files.isReadable(p)) {
            throw new ConfigException(key, "file '" + p + "' does not exist or cannot be read");
        }
        return p;
    }

    private int intRange(String key, int min, int max) {
        try {
            int v = Integer.parseInt(text(key));
            if (v < min || v > max) {
                throw bad(key, "between " + min + " and " + max);
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(key, "a whole number between " + min + " and " + max);
        }
    }

    /** An ACME profile name: a token of letters, digits, dots, hyphens and underscores. */
    private String profile(String key, String v) {
        if (!v.matches("[A-Za-z0-9._-]{1,64}")) {
            throw bad(key, "a profile name such as classic, tlsserver or shortlived");
        }
        return v;
    }

    /** A share in (0, 1]. */
    private double share(String key) {
        try {
            double v = Double.parseDouble(text(key));
            if (!(v > 0 && v <= 1)) {
                throw bad(key, "a share greater than 0 and at most 1 (e.g. 0.5)");
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(key, "a share greater than 0 and at most 1 (e.g. 0.5)");
        }
    }

    private int port(String key) {
        return intRange(key, 1, 65535);
    }

    private boolean bool(String key) {
        String v = text(key).toLowerCase(Locale.ROOT);
        return switch (v) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw bad(key, "true or false");
        };
    }

    private Duration duration(String key) {
        String v = text(key);
        try {
            Duration d = v.matches("\\d+ms") ? Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)))
                    : v.matches("\\d+s") ? Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)))
                    : Duration.parse(v);
            if (d.isNegative() || d.isZero()) {
                throw bad(key, "a positive duration");
            }
            return d;
        } catch (DateTimeParseException | NumberFormatException e) {
            throw bad(key, "a duration (ISO-8601 like PT1S, or 500ms, or 5s)");
        }
    }

    /**
     * The fresh-skip threshold doubles as the CAA recheck threshold before production finalize. Let's Encrypt
     * rechecks CAA at finalize for any authorization validated more than 7 hours ago, so a longer threshold would let
     * a name skip both our pre-check and our recheck and then fail the production order at finalize.
     */
    private Duration freshFor(String key) {
        Duration d = duration(key);
        if (d.compareTo(CA_CAA_RECHECK_AGE) > 0) {
            throw new ConfigException(key, "'" + raw(key) + "' (from " + origin.get(key) + ") is longer than PT7H: "
                    + "Let's Encrypt rechecks CAA at finalize for authorizations validated more than 7 hours ago, and "
                    + "this threshold also decides which names certfleet rechecks before production finalize");
        }
        return d;
    }

    private <E extends Enum<E>> E enumValue(String key, Class<E> type) {
        String v = text(key).toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            return Enum.valueOf(type, v);
        } catch (IllegalArgumentException e) {
            throw bad(key, "one of " + Arrays.stream(type.getEnumConstants())
                    .map(c -> c.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList());
        }
    }

    private String oneOf(String key, List<String> allowed) {
        String v = text(key);
        if (!allowed.contains(v)) {
            throw bad(key, "one of " + allowed);
        }
        return v;
    }

    private List<String> list(String key) {
        return optional(key).map(v -> Arrays.stream(v.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList())
                .orElse(List.of());
    }

    private List<String> hostPorts(String key) {
        List<String> out = new ArrayList<>();
        for (String hp : list(key)) {
            var m = HOST_PORT.matcher(hp);
            if (!m.matches() || (m.group(2) != null && (Integer.parseInt(m.group(2)) < 1 || Integer.parseInt(m.group(2)) > 65535))) {
                throw new ConfigException(key, "'" + hp + "' is not HOST or HOST:PORT");
            }
            out.add(hp);
        }
        return List.copyOf(out);
    }

    private String jdbcUrl(String key, String url) {
        if (!url.startsWith("jdbc:postgresql:")) {
            throw bad(key, "a PostgreSQL JDBC URL (jdbc:postgresql://HOST:PORT/DB)");
        }
        return url;
    }

    private String directory(String key) {
        String v = text(key);
        try {
            URI u = new URI(v);
            if (!("https".equals(u.getScheme()) || "http".equals(u.getScheme()) || "acme".equals(u.getScheme()))
                    || u.getHost() == null) {
                throw bad(key, "an https:// (or acme://) directory URL");
            }
            return v;
        } catch (java.net.URISyntaxException e) {
            throw bad(key, "a URL");
        }
    }

    private String contact(String key, String v) {
        if (!v.startsWith("mailto:") || !v.contains("@")) {
            throw bad(key, "a mailto: URI");
        }
        try {
            new URI(v);
        } catch (java.net.URISyntaxException e) {
            throw bad(key, "a mailto: URI (" + e.getReason() + ")");
        }
        return v;
    }

    private String cron(String key) {
        String v = text(key);
        String[] fields = v.trim().split("\\s+");
        if (fields.length < 6 || fields.length > 7) {
            throw bad(key, "a Quartz cron expression (seconds minutes hours day-of-month month day-of-week [year])");
        }
        return v;
    }

    private ZoneId zone(String key) {
        try {
            return ZoneId.of(text(key));
        } catch (java.time.DateTimeException e) {
            throw bad(key, "a time zone id such as UTC or Europe/Berlin");
        }
    }

    private List<String> maskedDump() {
        List<String> lines = new ArrayList<>();
        for (Key k : Keys.ALL) {
            String v = values.get(k.name());
            String shown = k.secret() && !v.isEmpty() ? "****" : v.isEmpty() ? "(unset)" : maskUrl(v);
            lines.add(k.name() + " = " + shown + "  [" + origin.get(k.name()) + "]");
        }
        return List.copyOf(lines);
    }

    /** The example configuration file: every key, commented, with its default and its reason. */
    public static String exampleFile() {
        StringBuilder sb = new StringBuilder();
        sb.append("# certfleet configuration (Java properties, UTF-8). Every key, its default and why it exists.\n")
          .append("# Precedence: built-in default < this file < environment variable CERTFLEET_<KEY> < --set KEY=VALUE.\n")
          .append("# The environment variable of a key is its name upper-cased with '.' and '-' turned into '_',\n")
          .append("# e.g. db.url -> CERTFLEET_DB_URL. Durations are ISO-8601 (PT1S) or 500ms / 5s.\n");
        String section = "";
        for (Key k : Keys.ALL) {
            String s = k.name().substring(0, k.name().indexOf('.'));
            if (!s.equals(section)) {
                sb.append('\n');
                section = s;
            }
            sb.append("# ").append(k.doc()).append(k.secret() ? " (secret: masked in logs)" : "")
              .append(" [env ").append(k.envName()).append("]\n");
            sb.append("#").append(k.name()).append('=').append(k.defaultValue()).append('\n');
        }
        return sb.toString();
    }

    /** Masks a password inside a JDBC URL ({@code password=...}). */
    static String maskUrl(String v) {
        return v.replaceAll("(?i)(password=)[^&;]*", "$1****");
    }
}
