package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.testsupport.Cli;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two certfleet nodes on one database: they share the work without ordering anything twice, and when one is
 * killed mid-run the other finishes its batches.
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

    /** A node; {@code httpPort} 0 keeps the harness's responder port (the one the Pebbles validate on). */
    private Process node(Path log, int httpPort) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java",
                "-Djdk.httpclient.allowRestrictedHeaders=host", "-cp", System.getProperty("java.class.path"),
                "io.certfleet.cli.Main"));
        h.overrides().forEach((k, v) -> cmd.addAll(List.of("--set", k + "=" + v)));
        if (httpPort != 0) {
            // on one host two nodes cannot share the port; the CA reaches the other node, which answers from the
            // database for this node's tokens too
            cmd.addAll(List.of("--set", "http01.port=" + httpPort));
        }
        cmd.addAll(List.of("--set", "pipeline.parallel-batches=2", "run", "--once", "--format", "json"));
        return new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    }

    @Test
    void twoNodesShareTheWorkOrderNothingTwiceAndTheSurvivorFinishesWhenOneIsKilled() throws Exception {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            names.append(String.format("t%03d.nodes.example,customer%02d%n", i, i / 10));
        }
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(names.toString().getBytes(StandardCharsets.UTF_8)),
                "import", "-").exitCode()).isZero();

        Path logA = Files.createTempFile("node-a", ".log");
        Path logB = Files.createTempFile("node-b", ".log");
        Process a = node(logA, io.certfleet.testsupport.TestDatabase.freePort());
        Process b = node(logB, 0);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND order_url IS NOT NULL") < 2) {
                assertThat(System.nanoTime()).as("production did not start in time").isLessThan(deadline);
                Thread.sleep(50);
            }
        } finally {
            a.destroyForcibly(); // node A dies mid-run
            a.waitFor(30, TimeUnit.SECONDS);
        }
        String out = new String(b.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(b.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(b.exitValue()).as(Files.readString(logB)).isZero();
        JsonNode s = new ObjectMapper().readTree(out);
        assertThat(s.get("finished").asBoolean()).as("node B finished node A's work too").isTrue();

        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(400);
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
