package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import io.certfleet.testsupport.dns.TestDnsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The nameserver sweep inside a real run: the pre-check asks an in-process resolver on 127.0.0.1 that delegates
 * {@code good.test} to two healthy servers and {@code shaky.test} to one healthy and one dead server (127.0.0.2
 * and 127.0.0.3, same port), while the Pebbles validate through challtestsrv as usual. At-risk names are held
 * back with their reason by default, and ordered when {@code precheck.hold-at-risk=false}.
 */
class AtRiskHoldIT {
    private static PipelineHarness h;
    private static final List<TestDnsServer> dns = new ArrayList<>();
    private static TestDnsServer resolver;
    private static int round;

    @BeforeAll
    static void start() throws Exception {
        h = new PipelineHarness();
        resolver = TestDnsServer.start("127.0.0.1");
        dns.add(resolver);
        TestDnsServer healthy = TestDnsServer.start("127.0.0.2", resolver.port());
        TestDnsServer dead = TestDnsServer.start("127.0.0.3", resolver.port());
        dns.add(healthy);
        dns.add(dead);
        for (String zone : List.of("good.test", "shaky.test")) {
            resolver.caa(zone, 0, "issue", "letsencrypt.org");
            healthy.caa(zone, 0, "issue", "letsencrypt.org");
        }
        resolver.ns("good.test", "ns1.good.test", "127.0.0.2").ns("good.test", "ns2.good.test", "127.0.0.2");
        resolver.ns("shaky.test", "ns1.shaky.test", "127.0.0.2").ns("shaky.test", "ns2.shaky.test", "127.0.0.3");
        dead.dropAll(true);
    }

    @AfterAll
    static void stop() throws Exception {
        dns.forEach(TestDnsServer::close);
        if (h != null) {
            h.close();
        }
    }

    @BeforeEach
    void clean() {
        h.reset();
        round++;
    }

    private JsonNode run(boolean holdAtRisk) throws Exception {
        h.importLines(List.of("a" + round + ".good.test", "b" + round + ".good.test", "a" + round + ".shaky.test"));
        return h.runOnce(Map.of("precheck.resolvers", resolver.hostPort(), "precheck.sweep", "true",
                "precheck.sweep-port", Integer.toString(resolver.port()), "precheck.canary", "good.test",
                "precheck.timeout", "PT0.2S", "precheck.tries", "2",
                "precheck.hold-at-risk", Boolean.toString(holdAtRisk)));
    }

    @Test
    void atRiskNamesAreHeldBackWithTheirReasonAndNeverOrdered() throws Exception {
        JsonNode s = run(true);
        assertThat(s.get("finished").asBoolean()).as(s.toString()).isTrue();
        assertThat(s.get("names_issued").asLong()).isEqualTo(2);
        assertThat(h.countBy("SELECT state || ' ' || reason, count(*) FROM v_domain_status WHERE name LIKE '%.shaky.test'"
                + " GROUP BY 1")).containsExactly(Map.entry("held NS_PARTIAL_FAILURE", 1L));
        assertThat(h.count("SELECT count(*) FROM v_domain_status WHERE name LIKE '%.shaky.test'"
                + " AND detail LIKE '%ns2.shaky.test%TIMEOUT%'")).isEqualTo(1);
        assertThat(h.count("SELECT count(*) FROM batch_member m JOIN domain d ON d.id = m.domain_id"
                + " WHERE d.name LIKE '%.shaky.test'")).as("never packed into any order").isZero();
        assertThat(h.count("SELECT count(*) FROM domain WHERE name LIKE '%.good.test' AND state = 'issued'"))
                .isEqualTo(2);
    }

    @Test
    void withHoldAtRiskOffTheyAreOrderedLikeAllowedNames() throws Exception {
        JsonNode s = run(false);
        assertThat(s.get("finished").asBoolean()).as(s.toString()).isTrue();
        assertThat(s.get("names_issued").asLong()).isEqualTo(3);
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(3);
        assertThat(h.count("SELECT count(*) FROM precheck_result r JOIN domain d ON d.id = r.domain_id"
                + " WHERE d.name LIKE '%.shaky.test' AND r.reason = 'NS_PARTIAL_FAILURE'"))
                .as("the finding is still recorded").isEqualTo(1);
    }
}
