package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.testsupport.ChildJvm;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.acme.BoulderProxy.Endpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code kill -9} of a running {@code run --once} in the middle of production, then another run: the job
 * finishes, every name is issued exactly once, and no production order is left unbound or failed, as the
 * database and the CA (Pebble's own log of the orders it created, the proxy's count of finalizes) both show. And a
 * validation that failed after a kill quarantines nobody on its first failure (the crash may have been why).
 * (PipelineCrashPointsIT kills a whole cycle at 11 points.)
 */
class PipelineCrashIT {
    private static PipelineHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new PipelineHarness();
        // Let's Encrypt answers a new-order for the same names and account with the pending order it already has;
        // Pebble does not, so the proxies do it (a kill between new-order and storing its URL leaves no orphan)
        h.staging.reuseOrders();
        h.production.reuseOrders();
    }

    @BeforeEach
    void clean() {
        h.db.clean();
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void killedDuringProductionThenResumedIssuesEveryNameOnce() throws Exception {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            names.append(String.format("k%03d.crash%d.example,customer%02d%n", i, i / 100, i / 10));
        }
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(names.toString().getBytes(StandardCharsets.UTF_8)),
                "import", "-").exitCode()).isZero();
        Set<String> ordersBefore = new HashSet<>(h.pebbles.orderIdsCreated("production"));
        int finalizesBefore = h.production.succeededCount(Endpoint.FINALIZE);

        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java",
                "-Djdk.httpclient.allowRestrictedHeaders=host", "-cp", System.getProperty("java.class.path"),
                "io.certfleet.cli.Main"));
        h.overrides().forEach((k, v) -> cmd.addAll(List.of("--set", k + "=" + v)));
        cmd.addAll(List.of("run", "--once"));
        Path log = Files.createTempFile("certfleet-crash", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            // wait until production is under way: an order placed and not yet issued
            while (h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND order_url IS NOT NULL") == 0) {
                assertThat(p.isAlive()).as("the first run ended before production started:%n%s", Files.readString(log))
                        .isTrue();
                assertThat(System.nanoTime()).as("production did not start in time").isLessThan(deadline);
                Thread.sleep(50);
            }
        } finally {
            p.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
            p.waitFor(30, TimeUnit.SECONDS);
        }
        long issuedBefore = h.count("SELECT count(*) FROM domain WHERE state = 'issued'");
        assertThat(issuedBefore).as("the kill came before the run finished").isLessThan(300);

        Cli.Result resumed = Cli.run(h.overrides(), null, "run", "--once", "--format", "json");
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(resumed.out());
        assertThat(s.get("finished").asBoolean()).isTrue();

        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(300);
        assertThat(h.count("SELECT count(*) FROM (SELECT domain_id FROM certificate_name GROUP BY 1 HAVING count(*) <> 1) x"))
                .as("every name in exactly one certificate").isZero();
        assertThat(h.count("SELECT count(*) FROM certificate_name")).isEqualTo(300);
        assertThat(h.count("SELECT count(*) FROM batch WHERE state IN ('planned','ordered','authorizing','finalizing')"))
                .isZero();
        assertThat(h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND state <> 'issued'")).isZero();
        long certificates = h.count("SELECT count(*) FROM certificate");
        assertThat(h.count("SELECT count(*) FROM batch WHERE environment = 'production'")).isEqualTo(certificates);
        // and at the CA: every production order Pebble created in this test is held by a batch, one per certificate,
        // and Pebble issued exactly as many certificates as were stored (no production order placed twice)
        Set<String> created = new TreeSet<>(h.pebbles.orderIdsCreated("production"));
        created.removeAll(ordersBefore);
        Set<String> bound = new HashSet<>();
        h.countBy("SELECT order_url, 1 FROM batch WHERE environment = 'production' AND order_url IS NOT NULL")
                .keySet().forEach(u -> bound.add(u.substring(u.lastIndexOf('/') + 1)));
        assertThat(created).as("production orders at the CA bound to no batch").isSubsetOf(bound);
        assertThat(created).as("one production order per certificate").hasSize((int) certificates);
        assertThat(h.production.succeededCount(Endpoint.FINALIZE) - finalizesBefore).as("certificates Pebble issued")
                .isEqualTo((int) certificates);
        System.out.printf("PipelineCrashIT: killed with %d of 300 names issued; resumed run took %d ms%n", issuedBefore,
                s.get("elapsed_ms").asLong());
        Files.deleteIfExists(log);
    }

    /**
     * Regression: the process that triggered the challenges was killed, and the CA's connection to validate them
     * failed (here because their address answers nothing; after a real kill because nobody is listening any more).
     * The next process cannot tell it was not its predecessor's death, so it orders those names again instead of
     * quarantining them; a name that fails again in a challenge this process triggered is the name's own fault.
     */
    @Test
    void aConnectionFailureOfAChallengeTriggeredBeforeAKillIsRetriedOnceNotQuarantined() throws Exception {
        String good = "good.retry.example";
        String flaky = "flaky.retry.example"; // unreachable until the kill, then fine
        String bad = "bad.retry.example"; // unreachable throughout
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream((good + "\n" + flaky + "\n" + bad + "\n")
                .getBytes(StandardCharsets.UTF_8)), "import", "-").exitCode()).isZero();
        h.pebbles.addA(flaky, "127.0.0.2");
        h.pebbles.addA(bad, "127.0.0.2");
        try {
            // a slow poll leaves time to kill the child between its triggers and its next look at the results
            Map<String, String> slowPoll = new java.util.HashMap<>(h.overrides());
            slowPoll.put("pipeline.poll-interval", "PT3S");
            ChildJvm child = ChildJvm.of(Map.of()).jvm("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC") // starts faster
                    .overrides(slowPoll).args("run", "--once");
            Process p = child.start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (h.count("SELECT count(*) FROM batch_member WHERE triggered") < 3) {
                    assertThat(p.isAlive()).as("the child ended before triggering:%n%s", child.stderrSoFar()).isTrue();
                    assertThat(System.nanoTime()).as("the challenges were not triggered in time").isLessThan(deadline);
                    Thread.sleep(10);
                }
            } finally {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
                child.finish(p);
            }
            assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'quarantined'")).as("killed in time").isZero();
            // Pebble tries the two (from 3 perspectives) at once; then the restored address can no longer help
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (validationAttempts(flaky) < 3 || validationAttempts(bad) < 3) {
                assertThat(System.nanoTime()).as("Pebble did not try to validate both").isLessThan(deadline);
                Thread.sleep(20);
            }
            Thread.sleep(200);
        } finally {
            h.pebbles.clearA(flaky);
        }

        Cli.Result resumed = Cli.run(h.overrides(), null, "run", "--once", "--format", "json");
        h.pebbles.clearA(bad);
        assertThat(new ObjectMapper().readTree(resumed.out()).get("finished").asBoolean()).as(resumed.err()).isTrue();
        assertThat(h.countBy("SELECT name || ' ' || state || ' ' || coalesce(reason_code, ''), 1 FROM domain"))
                .containsOnlyKeys(good + " issued ", flaky + " issued ", bad + " quarantined CA_CONNECTION");
        // (the good name's validation may also have come after the kill, and failed: then it was retried too)
        assertThat(h.countBy("SELECT d.name, count(*) FROM batch_member m JOIN domain d ON d.id = m.domain_id"
                + " WHERE m.outcome = 'VALIDATION_UNVERIFIED' GROUP BY 1"))
                .as("retried once each, in the order the killed process placed")
                .containsEntry(flaky, 1L).containsEntry(bad, 1L).allSatisfy((name, n) -> assertThat(n).isOne());
        assertThat(resumed.err()).contains("triggered its challenge and may have stopped before the CA connected");
    }

    private static long validationAttempts(String name) throws java.io.IOException {
        String log = Files.readString(h.pebbles.logDirectory().resolve("staging.log"));
        return log.lines().filter(l -> l.contains("Attempting to validate w/ HTTP: http://" + name + ":")).count();
    }
}
