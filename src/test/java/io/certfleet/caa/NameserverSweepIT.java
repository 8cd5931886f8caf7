package io.certfleet.caa;

import io.certfleet.model.NameserverAnswer;
import io.certfleet.model.PrecheckReason;
import io.certfleet.model.PrecheckResult;
import io.certfleet.model.PrecheckRun;
import io.certfleet.model.PrecheckVerdict;
import io.certfleet.testsupport.dns.TestDnsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The nameserver sweep: the resolver (127.0.0.1) delegates zones to test servers on 127.0.0.2… sharing one port,
 * which the sweep asks directly.
 */
class NameserverSweepIT {

    static final List<TestDnsServer> servers = new ArrayList<>();
    static TestDnsServer resolver;

    @BeforeAll
    static void start() throws Exception {
        resolver = TestDnsServer.start("127.0.0.1");
        int port = resolver.port();
        TestDnsServer ns1 = add(TestDnsServer.start("127.0.0.2", port));
        TestDnsServer ns2 = add(TestDnsServer.start("127.0.0.3", port));
        TestDnsServer ns3 = add(TestDnsServer.start("127.0.0.4", port));
        TestDnsServer ns4 = add(TestDnsServer.start("127.0.0.5", port));
        servers.add(resolver);
        // good.test: two healthy servers agreeing
        resolver.ns("good.test", "ns1.good.test", "127.0.0.2").ns("good.test", "ns3.good.test", "127.0.0.4")
                .caa("good.test", 0, "issue", "letsencrypt.org");
        ns1.caa("good.test", 0, "issue", "letsencrypt.org");
        ns3.caa("good.test", 0, "issue", "letsencrypt.org");
        // partial.test: one healthy, one dead
        resolver.ns("partial.test", "ns1.partial.test", "127.0.0.2").ns("partial.test", "ns2.partial.test", "127.0.0.3")
                .caa("partial.test", 0, "issue", "letsencrypt.org");
        ns1.caa("partial.test", 0, "issue", "letsencrypt.org");
        ns2.dropAll(true);
        // split.test: the two servers disagree
        resolver.ns("split.test", "ns3.split.test", "127.0.0.4").ns("split.test", "ns4.split.test", "127.0.0.5")
                .caa("split.test", 0, "issue", "letsencrypt.org");
        ns3.caa("split.test", 0, "issue", "letsencrypt.org");
        ns4.caa("split.test", 0, "issue", "ca.com");
        // far0.test … far11.test: each with one healthy and one dead server, as if this host could not reach half
        // of all nameservers (a firewall, or no IPv6 route)
        for (int i = 0; i < 12; i++) {
            String zone = "far" + i + ".test";
            resolver.ns(zone, "ns1." + zone, "127.0.0.2").ns(zone, "ns2." + zone, "127.0.0.3")
                    .caa(zone, 0, "issue", "letsencrypt.org");
            ns1.caa(zone, 0, "issue", "letsencrypt.org");
        }
        // blocked.test: blocked anyway, so the sweep does not run
        resolver.ns("blocked.test", "ns2.blocked.test", "127.0.0.3").caa("blocked.test", 0, "issue", "ca.com");
    }

    static TestDnsServer add(TestDnsServer s) {
        servers.add(s);
        return s;
    }

    @AfterAll
    static void stop() {
        servers.forEach(TestDnsServer::close);
    }

    static PrecheckRun run(List<String> names) throws Exception {
        CaaSettings s = CaaSettings.defaults().withResolvers(List.of(resolver.hostPort()))
                .withTimeout(Duration.ofMillis(200), 2).withSweep(true, resolver.port())
                .withCa(List.of("letsencrypt.org"), Optional.empty(), "http-01");
        try (CaaChecker c = CaaChecker.create(s)) {
            return c.check(names);
        }
    }

    @Test
    void sweepFindsFailingAndDisagreeingNameservers() throws Exception {
        PrecheckRun run = run(List.of("www.good.test", "www.partial.test", "www.split.test", "blocked.test"));
        PrecheckResult good = run.results().get(0);
        assertThat(good.reason()).isEqualTo(PrecheckReason.CAA_PERMITS);
        assertThat(good.evidence().nameservers()).extracting(NameserverAnswer::address)
                .contains("127.0.0.2:" + resolver.port(), "127.0.0.4:" + resolver.port());
        assertThat(good.evidence().nameservers()).allSatisfy(a -> assertThat(a.answered()).isTrue());

        PrecheckResult partial = run.results().get(1);
        assertThat(partial.verdict()).isEqualTo(PrecheckVerdict.AT_RISK);
        assertThat(partial.reason()).isEqualTo(PrecheckReason.NS_PARTIAL_FAILURE);
        assertThat(partial.detail()).contains("ns2.partial.test", "TIMEOUT", "www.partial.test");
        assertThat(partial.evidence().nameservers()).anySatisfy(a -> {
            assertThat(a.nameserver()).isEqualTo("ns2.partial.test");
            assertThat(a.outcome()).isEqualTo("TIMEOUT");
        });

        PrecheckResult split = run.results().get(2);
        assertThat(split.reason()).isEqualTo(PrecheckReason.NS_INCONSISTENT);
        assertThat(split.detail()).contains("ca.com", "ns4.split.test");

        assertThat(run.results().get(3).reason()).isEqualTo(PrecheckReason.CAA_FORBIDS);
        assertThat(run.results().get(3).evidence().nameservers()).isEmpty();
    }

    @Test
    void sweepFailuresAcrossManyDomainsAreOursAndBlockNoName() throws Exception {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            names.add("www.far" + i + ".test");
        }
        names.add("www.good.test");
        PrecheckRun run = run(names);
        assertThat(run.degraded()).isTrue();
        assertThat(run.degradedReason()).hasValueSatisfying(r -> assertThat(r)
                .contains("12 of 13", "precheck.sweep=false"));
        assertThat(run.results().subList(0, 12)).allSatisfy(r -> {
            assertThat(r.reason()).isEqualTo(PrecheckReason.RESOLVER_DEGRADED);
            assertThat(r.detail()).contains("Not checked", "TIMEOUT");
        });
        assertThat(run.results().get(12).reason()).isEqualTo(PrecheckReason.CAA_PERMITS);
    }
}
