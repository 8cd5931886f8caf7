package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.acme.BoulderProxy.Endpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 2 (CA misbehaves): both Pebbles reject half of all nonces ({@code PEBBLE_WFE_NONCEREJECT=50}), and the
 * proxies add load-balancer 503s, answers slower than the client's 2 s timeout, and connections closed without an
 * answer. The run completes (or waits with backoff and completes at the next run), no name is quarantined or held,
 * and every name ends in exactly one production certificate although a timed-out new-order reached the CA.
 */
@Tag("slow")
class CaMisbehavesIT {
    private static final int NAMES = 20;
    private static PipelineHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new PipelineHarness(Map.of("PEBBLE_WFE_NONCEREJECT", "50"));
        h.db.clean();
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void noncesOutagesTimeoutsAndResetsDelayTheRunButBlameNoNameAndOrderNothingTwice() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < NAMES; i++) {
            sb.append(String.format("m%02d.misbehave.example,cust%n", i));
        }
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.UTF_8)),
                "import", "-").exitCode()).isZero();

        // each fault without Retry-After costs the batch one backoff step (30 s, doubling) and one of its
        // pipeline.max-attempts (8): staging meets 5 faults, production 4
        h.staging.unavailable(Endpoint.NEW_ORDER, 2, Duration.ofSeconds(1));
        h.staging.reset(Endpoint.AUTHORIZATION, 1);
        h.staging.slow(Endpoint.ORDER, 1, Duration.ofSeconds(4));
        h.staging.reset(Endpoint.CHALLENGE, 1);
        h.production.slow(Endpoint.NEW_ORDER, 1, Duration.ofSeconds(4)); // reaches Pebble after the client gave up
        h.production.reset(Endpoint.FINALIZE, 1);
        h.production.slow(Endpoint.CERTIFICATE, 1, Duration.ofSeconds(4));
        h.production.unavailable(Endpoint.AUTHORIZATION, 1, Duration.ofSeconds(1));

        Map<String, String> o = new HashMap<>(h.overrides());
        o.put("acme.timeout", "PT2S");
        o.put("pipeline.run-timeout", "PT20S");
        long t0 = System.nanoTime();
        int runs = 0;
        List<String> log = new ArrayList<>();
        while (true) {
            Cli.Result r = Cli.run(o, null, "run", "--once", "--format", "json");
            int run = ++runs;
            r.err().lines().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).map(l -> "run " + run + ": " + l)
                    .forEach(log::add);
            assertThat(r.out()).as(r.err()).isNotBlank();
            JsonNode s = new ObjectMapper().readTree(r.out());
            assertThat(h.count("SELECT count(*) FROM domain WHERE state IN ('quarantined', 'held')"))
                    .as("nobody blamed for the CA's faults; log:%n%s", String.join("\n", log)).isZero();
            if (s.get("finished").asBoolean()) {
                break;
            }
            assertThat(runs).as("finished within 8 runs; log:%n%s", String.join("\n", log)).isLessThan(8);
            // an unfinished run leaves its batches waiting with backoff, not failed; skip the wait
            assertThat(h.count("SELECT count(*) FROM batch WHERE state IN ('planned','ordered','authorizing',"
                    + "'finalizing') AND not_before > now()")).as("open batches wait for a later time").isPositive();
            h.execute("UPDATE batch SET not_before = now() WHERE not_before > now()");
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;

        assertThat(h.countBy("SELECT state, count(*) FROM domain GROUP BY state")).containsExactly(
                Map.entry("issued", (long) NAMES));
        assertThat(h.count("SELECT count(*) FROM domain WHERE reason_code IS NOT NULL AND state <> 'issued'")).isZero();
        assertThat(h.count("SELECT count(*) FROM certificate_name")).isEqualTo(NAMES);
        assertThat(h.count("SELECT count(*) FROM (SELECT domain_id FROM certificate_name GROUP BY 1 HAVING count(*) > 1) x"))
                .isZero();
        assertThat(h.count("SELECT count(*) FROM certificate")).as("one certificate for one customer's 20 names")
                .isEqualTo(1);
        assertThat(h.count("SELECT count(*) FROM batch WHERE state IN ('planned','ordered','authorizing','finalizing')"))
                .isZero();
        // the faults really happened
        for (var e : new Endpoint[] {Endpoint.NEW_ORDER, Endpoint.AUTHORIZATION, Endpoint.ORDER, Endpoint.CHALLENGE}) {
            assertThat(h.staging.injectedCount(e)).as("staging %s faults", e).isPositive();
        }
        for (var e : new Endpoint[] {Endpoint.NEW_ORDER, Endpoint.FINALIZE, Endpoint.CERTIFICATE}) {
            assertThat(h.production.injectedCount(e)).as("production %s faults", e).isPositive();
        }
        long unavailable = h.count("SELECT count(*) FROM ca_event WHERE outcome = 'unavailable'");
        assertThat(unavailable).isPositive();
        System.out.printf("CaMisbehavesIT: %d names issued in %d run(s), %d ms; %d CA-side failures recorded; "
                        + "production new-orders sent %d, certificates 1%n", NAMES, runs, ms, unavailable,
                h.production.count(Endpoint.NEW_ORDER));
    }

}
