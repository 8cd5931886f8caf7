package io.certfleet.pipeline;

import io.certfleet.testsupport.ChildJvm;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.TestDatabase;
import io.certfleet.testsupport.acme.BoulderProxy.Endpoint;
import io.certfleet.testsupport.dns.TestDnsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 9 (load): 100,000 pending names admitted by the real daemon in a child JVM capped at {@code -Xmx384m}:
 * the pre-check of every name against an in-process DNS server, packing into 1,000 staging batches and their
 * creation all complete without running out of memory, while the daemon's {@code /healthz} answers every probe.
 * (The staging CA answers new-order with 503 for an hour, so the test measures admission, not issuance.)
 */
@Tag("slow")
class LoadIT {
    private static final int NAMES = 100_000;
    private static PipelineHarness h;
    private static TestDnsServer dns;

    @BeforeAll
    static void start() throws Exception {
        h = new PipelineHarness();
        h.db.clean();
        dns = TestDnsServer.start("127.0.0.1");
    }

    @AfterAll
    static void stop() throws Exception {
        if (dns != null) {
            dns.close();
        }
        if (h != null) {
            h.close();
        }
    }

    @Test
    void aDaemonCappedAt384MbAdmitsOneHundredThousandNamesWhileHealthzAnswers() throws Exception {
        StringBuilder sb = new StringBuilder(NAMES * 32);
        for (int i = 0; i < NAMES; i++) {
            // 1,000 customers with 100 names each under their own zone
            sb.append("n").append(i % 100).append(".zone").append(i / 100).append(".load.example,customer")
                    .append(i / 100).append('\n');
        }
        Cli.Result imported = Cli.run(h.overrides(), new ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.UTF_8)),
                "import", "-", "--format", "json");
        assertThat(imported.exitCode()).as(imported.err()).isZero();
        h.staging.unavailable(Endpoint.NEW_ORDER, Integer.MAX_VALUE, Duration.ofHours(1));

        int opsPort = TestDatabase.freePort();
        Map<String, String> o = new HashMap<>(h.overrides());
        o.put("precheck.resolvers", dns.hostPort());
        o.put("precheck.concurrency", "64");
        // this test is about bookkeeping at scale, not Let's Encrypt's order limits (BudgetTest, PipelineFaultsIT)
        o.put("budget.staging.new-orders-per-3h", "1000000");
        o.put("budget.production.new-orders-per-3h", "1000000");
        o.put("schedule.cron", "0/5 * * * * ?");
        o.put("ops.bind", "127.0.0.1");
        o.put("ops.port", Integer.toString(opsPort));
        ChildJvm daemon = ChildJvm.of(Map.of()).jvm("-Xmx384m", "-XX:+ExitOnOutOfMemoryError").overrides(o).args("daemon");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest healthz = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + "/healthz"))
                .timeout(Duration.ofSeconds(5)).build();
        long t0 = System.nanoTime();
        Process p = daemon.start();
        List<String> failedProbes = new ArrayList<>();
        int probes = 0;
        long maxProbeMs = 0;
        long batched;
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(6);
            boolean up = false;
            while (true) {
                assertThat(p.isAlive()).as("the daemon died:%n%s", tail(daemon.stderrSoFar())).isTrue();
                assertThat(System.nanoTime()).as("admission of %,d names did not finish in 6 minutes", NAMES)
                        .isLessThan(deadline);
                long s = System.nanoTime();
                try {
                    HttpResponse<String> r = http.send(healthz, HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        up = true;
                    } else if (up) {
                        failedProbes.add("HTTP " + r.statusCode());
                    }
                } catch (java.io.IOException e) {
                    if (up) {
                        failedProbes.add(e.toString());
                    }
                }
                if (up) {
                    probes++;
                    maxProbeMs = Math.max(maxProbeMs, (System.nanoTime() - s) / 1_000_000);
                }
                batched = h.count("SELECT count(*) FROM batch_member m JOIN batch b ON b.id = m.batch_id"
                        + " WHERE b.environment = 'staging'");
                if (batched == NAMES) {
                    break;
                }
                Thread.sleep(250);
            }
        } finally {
            p.destroy(); // SIGTERM: the ordered shutdown
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        ChildJvm.Result r = daemon.finish(p);
        assertThat(r.err()).doesNotContain("OutOfMemoryError");
        assertThat(failedProbes).as("every /healthz probe after start-up answered 200").isEmpty();
        assertThat(probes).isPositive();
        assertThat(h.count("SELECT count(*) FROM batch WHERE environment = 'staging'")).isEqualTo(NAMES / 100);
        assertThat(h.count("SELECT count(*) FROM domain WHERE state <> 'batched'")).isZero();
        assertThat(h.count("SELECT count(*) FROM precheck_result")).isEqualTo(NAMES);
        System.out.printf("LoadIT: %,d names pre-checked and packed into %,d batches by a -Xmx384m daemon in %,d ms "
                        + "(import %s); %d /healthz probes all 200, slowest %d ms; %,d DNS queries%n", NAMES,
                NAMES / 100, ms, imported.out().strip(), probes, maxProbeMs, dns.totalQueries());
    }

    private static String tail(String s) {
        return s.length() < 6000 ? s : s.substring(s.length() - 6000);
    }
}
