package io.certfleet.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.certfleet.caa.CaaChecker;
import io.certfleet.caa.CaaSettings;
import io.certfleet.model.PrecheckReason;
import io.certfleet.model.PrecheckRun;
import io.certfleet.model.PrecheckVerdict;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Pre-check throughput against a real resolver (bench/run starts unbound in front of nsd): for each size in
 * bench/run's baselines file, checks {@code names-N.txt} {@code runs} times with one {@link CaaChecker} (each run
 * asks every query again: the run cache lives for one run; unbound caches nothing), each run right after a dnsperf
 * pass over exactly the same queries, and reports the median of the pairs' ratios (on a shared machine the load
 * changes from minute to minute; a pair sees the same moment); the dig loop figure comes from bench/run.
 *
 * <p>Usage: {@code ResolverPrecheckBench HOST:PORT BASELINES.jsonl RUNS WORKDIR}
 */
public final class ResolverPrecheckBench {

    private ResolverPrecheckBench() {
    }

    /** One dnsperf pass over {@code queries} (256 outstanding, as in bench/precheck.sh); its run time in seconds. */
    private static double dnsperfSeconds(String resolver, Path queries) throws Exception {
        int colon = resolver.lastIndexOf(':');
        Process p = new ProcessBuilder("dnsperf", "-s", resolver.substring(0, colon), "-p",
                resolver.substring(colon + 1), "-d", queries.toString(), "-n", "1", "-q", "256", "-t", "5")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("dnsperf failed:\n" + out);
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Run time \\(s\\):\\s+([0-9.]+)").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no run time in dnsperf's output:\n" + out);
        }
        return Double.parseDouble(m.group(1));
    }

    private static int largestN(List<JsonNode> base) {
        return base.stream().filter(b -> b.has("names")).mapToInt(b -> b.get("names").asInt()).max().orElseThrow();
    }

    public static void main(String[] args) throws Exception {
        String resolver = args[0];
        List<JsonNode> base = Files.readAllLines(Path.of(args[1])).stream().filter(l -> !l.isBlank())
                .map(l -> {
                    try {
                        return Report.JSON.readTree(l);
                    } catch (Exception e) {
                        throw new IllegalArgumentException(l, e);
                    }
                }).toList();
        int runs = Integer.parseInt(args[2]);
        Path work = Path.of(args[3]);
        double digMsPerName = base.stream().filter(b -> b.has("dig_ms_per_name")).findFirst().orElseThrow()
                .get("dig_ms_per_name").asDouble();
        int digSample = base.stream().filter(b -> b.has("dig_sample")).findFirst().orElseThrow().get("dig_sample").asInt();
        // the product's default concurrency (precheck.concurrency), unless bench.concurrency says otherwise
        int concurrency = Integer.getInteger("bench.concurrency", CaaSettings.defaults().concurrency());
        CaaSettings settings = CaaSettings.defaults().withResolvers(List.of(resolver)).withSweep(false, 53)
                .withTimeout(Duration.ofSeconds(1), 3).withConcurrency(concurrency)
                .withCa(List.of("letsencrypt.org"), Optional.empty(), "http-01")
                .withHealth(List.of("bench"), 0.5, 10);
        double largestRate = 0;
        double largestDnsperf = Double.NaN;
        int largest = 0;
        try (CaaChecker checker = CaaChecker.create(settings)) {
            // warm-up, like JMH's warm-up iterations: two passes over the largest set, so the JIT has compiled the
            // hot paths before anything is timed (a cold JVM's figure is the CLI row, measured separately)
            int biggest = largestN(base);
            List<String> warm = Files.readAllLines(work.resolve("names-" + biggest + ".txt"));
            for (int i = 0; i < 2; i++) {
                checker.check(warm);
            }
            for (JsonNode b : base) {
                if (!b.has("names")) {
                    continue;
                }
                int n = b.get("names").asInt();
                List<String> names = Files.readAllLines(work.resolve("names-" + n + ".txt"));
                // paired runs: one dnsperf pass over exactly these queries right before each certfleet run, so
                // both see the same moment of this shared machine; the ratio is the median of the pairs' ratios
                Path queries = work.resolve("queries-" + n + ".txt");
                double[] rates = new double[runs];
                double[] dnsRates = new double[runs];
                double[] ratios = new double[runs];
                long timeouts = 0;
                for (int i = 0; i < runs; i++) {
                    double dns = dnsperfSeconds(resolver, queries);
                    long t0 = System.nanoTime();
                    PrecheckRun run = checker.check(names);
                    double s = (System.nanoTime() - t0) / 1e9;
                    rates[i] = n / s;
                    dnsRates[i] = n / dns;
                    ratios[i] = dns / s;
                    timeouts += run.countsByReason().getOrDefault(PrecheckReason.DNS_TIMEOUT, 0);
                    System.err.printf("precheck %d names run %d: %.3f s = %.0f names/s (dnsperf just before: %.3f s),"
                                    + " blocked %d, degraded %s%n", n, i + 1, s, rates[i], dns,
                            run.countsByVerdict().getOrDefault(PrecheckVerdict.BLOCKED, 0), run.degraded());
                }
                double rate = Report.median(rates);
                double dnsperf = Report.median(dnsRates);
                double ratio = Report.median(ratios);
                if (n == largestN(base)) {
                    largestDnsperf = dnsperf;
                }
                Report.row("precheck names/s, " + n + " names vs dnsperf", Report.fmt(rate) + " names/s",
                        Report.fmt(dnsperf) + " names/s (" + b.get("queries").asInt() + " queries)",
                        ratio, ">= 0.8 x dnsperf", Report.verdict(ratio >= 0.8),
                        "concurrency " + concurrency + "; " + runs + " pairs (a dnsperf pass, -q 256, then a certfleet"
                                + " run), ratio = median of the pairs' ratios, rates = medians; unbound 1 thread, no"
                                + " cache, in front of nsd; " + timeouts + " timeouts over all runs");
                if (n > largest) {
                    largest = n;
                    largestRate = rate;
                }
            }
        }
        int alt = Integer.getInteger("bench.alt-concurrency", 32);
        try (CaaChecker checker = CaaChecker.create(settings.withConcurrency(alt))) {
            List<String> names = Files.readAllLines(work.resolve("names-" + largest + ".txt"));
            checker.check(names.subList(0, Math.min(1000, names.size())));
            double[] rates = new double[runs];
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                checker.check(names);
                rates[i] = largest / ((System.nanoTime() - t0) / 1e9);
            }
            double dnsperf = largestDnsperf;
            Report.row("precheck names/s, " + largest + " names, --concurrency " + alt,
                    Report.fmt(Report.median(rates)) + " names/s", Report.fmt(dnsperf) + " names/s",
                    Report.median(rates) / dnsperf, ">= 0.8 x dnsperf", "info",
                    "not the default (" + concurrency + "); queries in flight stay capped at 256 per resolver by"
                            + " the transport either way");
        }
        double dig = 1000 / digMsPerName;
        Report.row("precheck names/s, " + largest + " names vs dig loop", Report.fmt(largestRate) + " names/s",
                Report.fmt(dig) + " names/s (" + Report.fmt(digMsPerName) + " ms/name)", largestRate / dig,
                ">= 100 x dig loop", Report.verdict(largestRate >= 100 * dig),
                "dig loop timed on " + digSample + " names (median of 3 passes), one dig per name asking every level;"
                        + " per-name cost extrapolated");
    }
}
