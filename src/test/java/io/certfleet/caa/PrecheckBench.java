package io.certfleet.caa;

import io.certfleet.model.PrecheckRun;
import io.certfleet.testsupport.dns.TestDnsServer;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Benchmark: N names over M parent zones served by an in-process authoritative server on loopback (every 50th zone
 * forbids Let's Encrypt). Prints names/s of each run, the median, peak heap and RSS.
 *
 * <pre>
 * mvn -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -Xmx256m -cp target/classes:target/test-classes:$(cat target/cp.txt) io.certfleet.caa.PrecheckBench 20000 2000 5 256
 * </pre>
 */
public final class PrecheckBench {

    private PrecheckBench() {
    }

    /** Names h{i}.z{i % zones}.bench; zone z{k} forbids when k % 50 == 0. */
    static List<String> names(int n, int zones) {
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add("h" + i + ".z" + (i % zones) + ".bench");
        }
        return out;
    }

    static void serve(TestDnsServer dns, int zones) {
        for (int k = 0; k < zones; k++) {
            dns.caa("z" + k + ".bench", 0, "issue", k % 50 == 0 ? "ca.com" : "letsencrypt.org");
        }
    }

    static CaaSettings settings(TestDnsServer dns, int concurrency) {
        return CaaSettings.defaults().withResolvers(List.of(dns.hostPort())).withSweep(false, 53)
                .withTimeout(Duration.ofSeconds(1), 3).withConcurrency(concurrency)
                .withCa(List.of("letsencrypt.org"), Optional.empty(), "http-01");
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int zones = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int concurrency = args.length > 3 ? Integer.parseInt(args[3]) : 256;
        List<String> names = names(n, zones);
        double[] rates = new double[runs];
        try (TestDnsServer dns = TestDnsServer.start("127.0.0.1")) {
            serve(dns, zones);
            try (CaaChecker c = CaaChecker.create(settings(dns, concurrency))) {
                c.check(names.subList(0, Math.min(n, 2000))); // warm-up
                for (int i = 0; i < runs; i++) {
                    PrecheckRun run = c.check(names);
                    rates[i] = n / Math.max(1e-3, run.elapsedMs() / 1000.0);
                    System.out.printf("run %d: %d names in %d ms = %.0f names/s, blocked %d%n", i + 1, n,
                            run.elapsedMs(), rates[i], run.countsByVerdict().get(io.certfleet.model.PrecheckVerdict.BLOCKED));
                }
            }
        }
        Arrays.sort(rates);
        long peakHeap = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == java.lang.management.MemoryType.HEAP)
                .mapToLong(p -> p.getPeakUsage().getUsed()).sum();
        System.out.printf("median %.0f names/s over %d runs (%d names, %d zones, concurrency %d)%n",
                rates[runs / 2], runs, n, zones, concurrency);
        System.out.printf("peak heap (sum of pool peaks) %d MiB, %s%n", peakHeap >> 20, rss());
    }

    static String rss() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmHWM")) {
                    return "peak RSS " + l.substring(6).strip();
                }
            }
        } catch (Exception e) {
            // not Linux
        }
        return "peak RSS unknown";
    }
}
