package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.dns.TestDnsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 4 (resolver outage): certfleet's pre-check resolver (an in-process {@link TestDnsServer}; the CAs keep
 * using challtestsrv) stops answering, or answers SERVFAIL to everything, in the middle of the pre-check. The run
 * is marked degraded, no name is quarantined or held for it, the unchecked names stay pending, and when the
 * resolver is back they are checked again and issued.
 */
class ResolverOutageIT {
    private static final int NAMES = 60;
    private static PipelineHarness h;
    private static TestDnsServer resolver;
    private static int round;

    @BeforeAll
    static void start() throws Exception {
        h = new PipelineHarness();
        resolver = TestDnsServer.start("127.0.0.1");
    }

    @AfterAll
    static void stop() throws Exception {
        if (resolver != null) {
            resolver.close();
        }
        if (h != null) {
            h.close();
        }
    }

    @BeforeEach
    void clean() {
        h.db.clean();
        resolver.clear();
        round++;
    }

    @Test
    void theResolverStopsMidPrecheck() throws Exception {
        outageThenRecovery(r -> r.dropAllAfter(30));
    }

    @Test
    void theResolverAnswersEverythingServfailMidPrecheck() throws Exception {
        outageThenRecovery(r -> r.servfailAllAfter(30));
    }

    private void outageThenRecovery(Consumer<TestDnsServer> outage) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < NAMES; i++) {
            // a registered domain per name, so the pre-check asks the resolver about each one, and an outage shows
            // across many unrelated domains (one customer's dead zone would be theirs, not ours)
            sb.append(String.format("www.outage-z%d-%02d.example%n", round, i));
        }
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.UTF_8)),
                "import", "-").exitCode()).isZero();
        Map<String, String> o = new HashMap<>(h.overrides());
        o.put("precheck.resolvers", resolver.hostPort());
        o.put("precheck.timeout", "PT0.2S");
        o.put("precheck.tries", "1");
        o.put("precheck.concurrency", "4");

        outage.accept(resolver);
        JsonNode first = run(o);
        assertThat(first.get("resolver_degraded").asBoolean()).as("run marked degraded").isTrue();
        assertThat(h.count("SELECT count(*) FROM domain WHERE state IN ('quarantined', 'held')"))
                .as("no name blocked or held for the resolver's fault").isZero();
        long issuedFirst = first.get("names_issued").asLong();
        long left = h.count("SELECT count(*) FROM domain WHERE state = 'pending'");
        assertThat(left).as("unchecked names stay pending").isEqualTo(NAMES - issuedFirst).isPositive();
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'pending' AND reason_code = 'RESOLVER_DEGRADED'"
                + " AND next_attempt_at > now()")).isEqualTo(left);
        assertThat(h.count("SELECT count(*) FROM precheck_run WHERE degraded")).isEqualTo(1);

        // the resolver is back and the 15 minutes have passed
        resolver.clear();
        h.execute("UPDATE domain SET next_attempt_at = now() - interval '1 second' WHERE state = 'pending'");
        JsonNode second = run(o);
        assertThat(second.get("resolver_degraded").asBoolean()).isFalse();
        assertThat(second.get("prechecked").asLong()).isEqualTo(left);
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(NAMES);
        System.out.printf("ResolverOutageIT: outage after 30 queries: %d of %d names issued, %d left pending and "
                + "0 blocked; after recovery all %d issued%n", issuedFirst, NAMES, left, NAMES);
    }

    private static JsonNode run(Map<String, String> o) throws Exception {
        Cli.Result r = Cli.run(o, null, "run", "--once", "--format", "json");
        assertThat(r.out()).as(r.err()).isNotBlank();
        return new ObjectMapper().readTree(r.out());
    }
}
