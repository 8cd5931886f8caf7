package io.certfleet.bench;

import io.certfleet.pipeline.PipelineHarness;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.acme.BoulderProxy.Endpoint;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Benchmarks against the real test CAs (two Debian Pebbles with {@code PEBBLE_VA_NOSLEEP=1}, staging behind the
 * Boulder-behaviour proxy), reusing {@link PipelineHarness}:
 * <ul>
 *   <li>{@code issuance}: 10 × 100 valid names through {@code run --once} (staging rehearsal + production), against
 *   Debian's lego issuing 100-name orders one after another on the same production Pebble (HTTP-01, its own
 *   server on the port Pebble validates);</li>
 *   <li>{@code orders}: 1,000 names with 10 bad ones, measured for real, next to the simulation's figures for the
 *   same packing and the same bad names ({@link OrdersSimulation}).</li>
 * </ul>
 * Usage: {@code PebbleBench --quick=0|1 --do=issuance,orders --work=DIR}.
 */
public final class PebbleBench {

    /** A run --once over 1,000 names takes ~1.5 min here; past this it is stuck, not slow. */
    private static final int ORDERS_LIMIT_S = 240;

    /** The streams this process started with; {@code Cli.run} swaps System.out/err while a command runs. */
    private static final java.io.PrintStream REAL_OUT = System.out;
    private static final java.io.PrintStream REAL_ERR = System.err;

    private PebbleBench() {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = arg(args, "quick", "0").equals("1");
        String what = arg(args, "do", "issuance,orders");
        Path work = Path.of(arg(args, "work", System.getProperty("java.io.tmpdir")));
        try (PipelineHarness h = new PipelineHarness()) {
            if (what.contains("issuance")) {
                issuance(h, quick ? 3 : 10, 1, quick ? 10 : 25, work); // lego: 25 names, ~2 min; its per-name cost is flat
            }
            if (what.contains("orders")) {
                orders(h, OrdersSimulation.Mix.ATTRIBUTABLE, 10);
                if (!quick) {
                    orders(h, OrdersSimulation.Mix.UNATTRIBUTABLE, 10);
                }
            }
        }
        System.exit(0); // the harness's pools and Pebble watchers are not daemon threads
    }

    private static String arg(String[] args, String key, String dflt) {
        for (String a : args) {
            if (a.startsWith("--" + key + "=")) {
                return a.substring(key.length() + 3);
            }
        }
        return dflt;
    }

    private static void issuance(PipelineHarness h, int certs, int legoOrders, int legoNames, Path work)
            throws Exception {
        h.db.clean();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < certs * 100; i++) {
            lines.add(String.format("i%04d.c%02d.issue.example,c%02d", i, i / 100, i / 100));
        }
        Cli.Result imp = Cli.run(h.overrides(), stdin(lines), "import", "-");
        check(imp, 0, "import");
        long t0 = System.nanoTime();
        Cli.Result run = Cli.run(h.overrides(), null, "run", "--once", "--format", "json");
        double wall = (System.nanoTime() - t0) / 1e9;
        check(run, 0, "run --once");
        double prod = seconds(h, "SELECT extract(epoch FROM max(occurred_at) - min(occurred_at)) FROM ca_event"
                + " WHERE environment = 'production'");
        double stag = seconds(h, "SELECT extract(epoch FROM max(occurred_at) - min(occurred_at)) FROM ca_event"
                + " WHERE environment = 'staging'");
        long issued = h.count("SELECT count(*) FROM certificate WHERE environment = 'production'");
        System.err.printf("certfleet: %d names, run --once %.1f s (staging leg %.1f s, production leg %.1f s),"
                + " %d certificates%n", certs * 100, wall, stag, prod, issued);

        // lego: the same kind of order (100 names), one after another, fresh account each, same production Pebble
        double[] perOrder = new double[legoOrders];
        for (int o = 0; o < legoOrders; o++) {
            perOrder[o] = lego(h, o, legoNames, work) * (100.0 / legoNames);
            System.err.printf("lego order %d: %d names, %.1f s per 100 names%n", o + 1, legoNames, perOrder[o]);
        }
        double legoTotal = Report.median(perOrder) * certs;
        String legoHow = "lego 4.9.1 timed on " + legoOrders + " order(s) of " + legoNames + " names, extrapolated to "
                + certs + " x 100";
        Report.row("issuance " + certs + " x 100 names: production leg vs lego", Report.fmt(prod) + " s",
                Report.fmt(legoTotal) + " s", prod / legoTotal, "<= 0.05 x lego", Report.verdict(prod <= 0.05 * legoTotal),
                "production leg = first to last production CA request (ca_event); " + legoHow);
        Report.row("issuance " + certs + " x 100 names: staging+production vs lego", Report.fmt(wall) + " s",
                Report.fmt(legoTotal) + " s", wall / legoTotal, "(report)", "info",
                "run --once wall incl. pre-check, rehearsal, promotion, " + issued + " certificates; " + legoHow);
    }

    private static double lego(PipelineHarness h, int o, int names, Path work) throws Exception {
        Path dir = Files.createTempDirectory(work, "lego-");
        List<String> cmd = new ArrayList<>(List.of("lego", "--server", h.pebbles.production().directory().toString(),
                "--accept-tos", "--email", "bench@example.com", "--path", dir.toString(), "--http", "--http.port",
                "127.0.0.1:" + h.responderPort));
        for (int i = 0; i < names; i++) {
            cmd.add("-d");
            cmd.add(String.format("l%03d.o%d.lego.example", i, o));
        }
        cmd.add("run");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("lego.log").toFile());
        pb.environment().put("LEGO_CA_CERTIFICATES", h.caFile.toString());
        long t0 = System.nanoTime();
        Process p = pb.start();
        int rc = p.waitFor();
        double s = (System.nanoTime() - t0) / 1e9;
        if (rc != 0) {
            throw new IllegalStateException("lego failed (" + rc + "), see " + dir.resolve("lego.log") + ":\n"
                    + Files.readString(dir.resolve("lego.log")));
        }
        return s;
    }

    private static void orders(PipelineHarness h, OrdersSimulation.Mix mix, int k) throws Exception {
        h.db.clean();
        int n = 1000;
        Set<Long> badIds = OrdersSimulation.pick(n, k, 7);
        Set<String> bad = new TreeSet<>();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = String.format("n%04d.example", i);
            lines.add(name);
            if (badIds.contains((long) i + 1)) {
                bad.add(name);
            }
        }
        // only this mix's failures: rules accumulate in the proxy, and an earlier mix's rule left in place would
        // decide this run (the same seed picks the same bad names)
        h.staging.clearRules();
        int injectedBefore = h.staging.injectedCount(Endpoint.NEW_ORDER);
        if (mix == OrdersSimulation.Mix.ATTRIBUTABLE) {
            h.staging.rejectIdentifiersAtNewOrder(bad);
        } else {
            h.staging.failFinalizeNamingNobody(bad);
        }
        check(Cli.run(h.overrides(), stdin(lines), "import", "-"), 0, "import");
        long t0 = System.nanoTime();
        var pending = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> Cli.run(h.overrides(), null, "run", "--once", "--format", "json"));
        Cli.Result run;
        try {
            run = pending.get(ORDERS_LIMIT_S, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            // the stuck run still holds Cli's captured System.out/err: report on the streams this process started with
            System.setOut(REAL_OUT);
            System.setErr(REAL_ERR);
            Path dump = Files.createTempFile(Path.of(System.getProperty("java.io.tmpdir")), "orders-stall-", ".txt");
            StringBuilder threads = new StringBuilder();
            Thread.getAllStackTraces().forEach((t, st) -> {
                threads.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
                for (StackTraceElement el : st) {
                    threads.append("    at ").append(el).append('\n');
                }
            });
            Files.writeString(dump, threads);
            Report.row("orders, 1000 names, k=" + k + " " + mix.name().toLowerCase() + " (real, Pebble)",
                    "did not finish in " + ORDERS_LIMIT_S + " s", "", Double.NaN,
                    "certfleet prod <= manual prod, 0 failed prod", "FAIL",
                    "run --once did not finish; where every thread was at the deadline: " + dump);
            System.err.println("orders: run --once did not finish in " + ORDERS_LIMIT_S + " s; giving up; threads: "
                    + dump);
            System.exit(0);
            return;
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        if (run.exitCode() > 1) {
            throw new IllegalStateException("run --once: " + run.err());
        }
        long staging = h.count("SELECT count(DISTINCT order_url) FROM batch WHERE environment = 'staging'")
                + h.staging.injectedCount(Endpoint.NEW_ORDER) - injectedBefore;
        long production = h.count("SELECT count(DISTINCT order_url) FROM batch WHERE environment = 'production'");
        long failedProd = h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND state <> 'issued'");
        long quarantined = h.count("SELECT count(*) FROM domain WHERE state = 'quarantined'");
        h.staging.clearRules();
        var batches = OrdersSimulation.batches(n);
        var sim = OrdersSimulation.certfleet(batches, badIds, mix);
        var manual = OrdersSimulation.manual(batches, badIds, mix);
        System.err.printf("orders %s k=%d: real %d staging + %d production (%d failed), %d quarantined, %.1f s;"
                        + " simulated %d + %d; manual %d%n", mix, k, staging, production, failedProd, quarantined, wall,
                sim.staging(), sim.production(), manual.production());
        Report.row("orders, 1000 names, k=" + k + " " + mix.name().toLowerCase() + " (real, Pebble)",
                production + " prod (" + failedProd + " failed) + " + staging + " staging",
                manual.production() + " prod (" + manual.failedProduction() + " failed, manual, simulated)",
                production / (double) manual.production(), "certfleet prod <= manual prod, 0 failed prod",
                Report.verdict(production <= manual.production() && failedProd == 0),
                "simulation predicted " + sim.production() + " prod + " + sim.staging() + " staging; " + quarantined
                        + " quarantined; run --once " + Report.fmt(wall) + " s");
    }

    private static double seconds(PipelineHarness h, String sql) throws Exception {
        // count() reads a long; ask for milliseconds to keep the precision
        return h.count("SELECT (1000 * (" + sql + "))::bigint") / 1000.0;
    }

    private static ByteArrayInputStream stdin(List<String> lines) {
        return new ByteArrayInputStream(String.join("\n", lines).getBytes(StandardCharsets.UTF_8));
    }

    private static void check(Cli.Result r, int expected, String what) {
        if (r.exitCode() != expected) {
            throw new IllegalStateException(what + " exited " + r.exitCode() + ": " + r.err()
                    + r.out().lines().limit(20).collect(Collectors.joining("\n")));
        }
    }
}
