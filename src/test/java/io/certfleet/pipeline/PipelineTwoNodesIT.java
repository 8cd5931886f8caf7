package io.certfleet.pipeline;

import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two certfleet daemons on one database run the same (clustered) schedule: every batch is ordered once, and
 * when one daemon is killed mid-run the other finishes the work.
 */
class PipelineTwoNodesIT {
    private static PipelineHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new PipelineHarness();
        h.db.clean();
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    /** A daemon; {@code httpPort} 0 keeps the harness's responder port (the one the Pebbles validate on). */
    private Process daemon(Path log, int httpPort, int opsPort) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java",
                "-Djdk.httpclient.allowRestrictedHeaders=host", "-cp", System.getProperty("java.class.path"),
                "io.certfleet.cli.Main"));
        h.overrides().forEach((k, v) -> cmd.addAll(List.of("--set", k + "=" + v)));
        if (httpPort != 0) {
            // two nodes on one host cannot share the port; the CA reaches the other node, which answers for this
            // node's tokens from the database
            cmd.addAll(List.of("--set", "http01.port=" + httpPort));
        }
        cmd.addAll(List.of("--set", "ops.port=" + opsPort, "--set", "schedule.cron=0/5 * * * * ?",
                "--set", "pipeline.parallel-batches=2", "daemon"));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static boolean ready(int opsPort) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort
                    + "/readyz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    private static void await(String what, long seconds, java.util.concurrent.Callable<Boolean> condition)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.call()) {
            assertThat(System.nanoTime()).as(what + " did not happen within " + seconds + " s").isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    @Test
    void twoDaemonsShareTheScheduleOrderNothingTwiceAndTheSurvivorFinishesWhenOneIsKilled() throws Exception {
        Path logA = Files.createTempFile("node-a", ".log");
        Path logB = Files.createTempFile("node-b", ".log");
        int opsA = TestDatabase.freePort();
        int opsB = TestDatabase.freePort();
        Process a = daemon(logA, TestDatabase.freePort(), opsA);
        Process b = daemon(logB, 0, opsB);
        try {
            await("both daemons ready", 180, () -> ready(opsA) && ready(opsB));
            StringBuilder names = new StringBuilder();
            for (int i = 0; i < 400; i++) {
                names.append(String.format("t%03d.nodes.example,customer%02d%n", i, i / 10));
            }
            assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(names.toString().getBytes(StandardCharsets.UTF_8)),
                    "import", "-").exitCode()).isZero();

            Set<String> owners = new HashSet<>();
            await("production under way", 180, () -> {
                owners.addAll(h.countBy("SELECT lease_owner, 1 FROM batch WHERE lease_owner IS NOT NULL").keySet());
                return h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND order_url IS NOT NULL") > 0;
            });
            a.destroyForcibly(); // node A dies mid-run, maybe in the middle of a step
            a.waitFor(30, TimeUnit.SECONDS);

            await("node B finishing the work", 240, () -> h.count("SELECT count(*) FROM domain WHERE state = 'issued'") == 400);
            System.out.printf("PipelineTwoNodesIT: lease owners seen before the kill: %s%n", owners);
        } finally {
            a.destroyForcibly();
            b.destroy();
            b.waitFor(60, TimeUnit.SECONDS);
        }
        assertThat(h.count("SELECT count(*) FROM (SELECT domain_id FROM certificate_name GROUP BY 1 HAVING count(*) <> 1) x"))
                .as("every name in exactly one certificate").isZero();
        // every batch was ordered once: one NEW_ORDER per batch, and no two batches share an order
        assertThat(h.count("SELECT count(*) FROM ca_event WHERE request = 'NEW_ORDER' AND outcome = 'ok'"))
                .isEqualTo(h.count("SELECT count(*) FROM batch WHERE order_url IS NOT NULL"))
                .isEqualTo(h.count("SELECT count(DISTINCT order_url) FROM batch"));
        assertThat(h.count("SELECT count(*) FROM batch WHERE environment = 'production'"))
                .isEqualTo(h.count("SELECT count(*) FROM certificate"));
        assertThat(Files.readString(logA) + Files.readString(logB)).doesNotContain("batch_member_one_open_batch_uq");
        Files.deleteIfExists(logA);
        Files.deleteIfExists(logB);
    }
}
