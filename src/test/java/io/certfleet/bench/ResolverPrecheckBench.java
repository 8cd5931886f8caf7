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
 * Pre-check throughput against a real resolver (bench/run starts unbound in front of nsd): for each size measured
 * by bench/run's dnsperf pass, checks {@code names-N.txt} {@code runs} times with one {@link CaaChecker} (each run
 * asks every query again: the run cache lives for one run; unbound caches nothing) and compares the median with
 * dnsperf's time for exactly the same queries and with the sequential dig loop.
 *
 * <p>Usage: {@code ResolverPrecheckBench HOST:PORT BASELINES.jsonl RUNS WORKDIR}
 */
public final class ResolverPrecheckBench {

    private ResolverPrecheckBench() {
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
                double[] rates = new double[runs];
                long timeouts = 0;
                for (int i = 0; i < runs; i++) {
                    long t0 = System.nanoTime();
                    PrecheckRun run = checker.check(names);
                    double s = (System.nanoTime() - t0) / 1e9;
                    rates[i] = n / s;
                    timeouts += run.countsByReason().getOrDefault(PrecheckReason.DNS_TIMEOUT, 0);
                    System.err.printf("precheck %d names run %d: %.2f s = %.0f names/s, blocked %d, degraded %s%n", n,
                            i + 1, s, rates[i], run.countsByVerdict().getOrDefault(PrecheckVerdict.BLOCKED, 0),
                            run.degraded());
                }
                double rate = Report.median(rates);
                double dnsperf = n / b.get("dnsperf_s").asDouble();
                Report.row("precheck names/s, " + n + " names vs dnsperf", Report.fmt(rate) + " names/s",
                        Report.fmt(dnsperf) + " names/s (" + b.get("queries").asInt() + " q in "
                                + b.get("dnsperf_s").asText() + " s)",
                        rate / dnsperf, ">= 0.8 x dnsperf", Report.verdict(rate >= 0.8 * dnsperf),
                        "concurrency " + concurrency + "; median of " + runs + " runs (dnsperf: median of " + runs + " passes, -q 256); unbound 1 thread,"
                                + " no cache, in front of nsd; " + timeouts + " timeouts over all runs");
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
            double dnsperf = base.stream().filter(b -> b.has("names") && b.get("names").asInt() == largestN(base))
                    .findFirst().map(b -> largestN(base) / b.get("dnsperf_s").asDouble()).orElse(Double.NaN);
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
