package io.certfleet.caa;

import io.certfleet.model.PrecheckReason;
import io.certfleet.model.PrecheckResult;
import io.certfleet.model.PrecheckRun;
import io.certfleet.model.PrecheckVerdict;
import io.certfleet.testsupport.dns.TestDnsServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Every reason code, produced over the real network stack against the in-process test server on loopback. */
class CaaCheckerIT {

    static final String ACCT = "https://acme-v02.api.letsencrypt.org/acme/acct/42";
    static TestDnsServer dns;
    static final Set<PrecheckReason> SEEN = EnumSet.noneOf(PrecheckReason.class);

    @BeforeAll
    static void start() throws Exception {
        dns = TestDnsServer.start("127.0.0.1");
        dns.caa("permit.test", 0, "issue", "letsencrypt.org")
                .caa("iodef.test", 0, "iodef", "mailto:hostmaster@iodef.test")
                .caa("iodef.test", 0, "issuewild", "ca.com")
                .caa("forbid.test", 0, "issue", "ca.com")
                .caa("critical.test", 128, "tbs", "Unknown")
                .caa("critical.test", 0, "issue", "letsencrypt.org")
                .caa("acct.test", 0, "issue", "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/7")
                .caa("myacct.test", 0, "issue", "letsencrypt.org; accounturi=" + ACCT)
                .caa("method.test", 0, "issue", "letsencrypt.org; validationmethods=dns-01")
                .caa("malformed.test", 0, "issue", "letsencrypt.org; a-b=c")
                .rcode("servfail.test", Rcode.SERVFAIL)
                .caa("present.servfail.test", 0, "issue", "letsencrypt.org")
                .rcode("refused.test", Rcode.REFUSED)
                .rcode("notimp.test", Rcode.NOTIMP)
                .rcode("formerr.test", Rcode.FORMERR)
                .rcode("yxdomain.test", Rcode.YXDOMAIN)
                .drop("timeout.test")
                .truncate("trunc.test")
                .rcodeWithEde("bogus.test", Rcode.SERVFAIL, ExtendedErrorCodeOption.DNSSEC_BOGUS, "RRSIG invalid")
                .rcode("gonetld", Rcode.NXDOMAIN)
                .rcode("nx.permit.test", Rcode.NXDOMAIN)
                .cname("alias.test", "cdn.provider.example")
                .caa("cdn.provider.example", 0, "issue", "ca.com")
                .caa("wild.test", 0, "issue", "ca.com")
                .caa("wild.test", 0, "issuewild", "letsencrypt.org");
    }

    @AfterAll
    static void stop() {
        dns.close();
        // (a) every reason code is produced by some test here (the sweep codes by NameserverSweepIT)
        EnumSet<PrecheckReason> expected = EnumSet.allOf(PrecheckReason.class);
        expected.removeAll(EnumSet.of(PrecheckReason.NS_INCONSISTENT, PrecheckReason.NS_PARTIAL_FAILURE));
        assertThat(SEEN).containsAll(expected);
    }

    static CaaSettings settings() {
        return CaaSettings.defaults().withResolvers(List.of(dns.hostPort())).withTimeout(Duration.ofMillis(200), 2)
                .withSweep(false, 53).withCa(List.of("letsencrypt.org"), Optional.of(ACCT), "http-01");
    }

    static PrecheckRun run(CaaSettings s, List<String> names) throws Exception {
        try (CaaChecker c = CaaChecker.create(s)) {
            PrecheckRun run = c.check(names);
            run.results().forEach(r -> SEEN.add(r.reason()));
            return run;
        }
    }

    static PrecheckResult one(String name) throws Exception {
        return run(settings(), List.of(name)).results().get(0);
    }

    @Test
    void recordOutcomes() throws Exception {
        List<String> names = List.of("none.example.test", "www.permit.test", "a.b.iodef.test", "shop.forbid.test",
                "critical.test", "acct.test", "myacct.test", "method.test", "malformed.test", "present.servfail.test",
                "nx.permit.test", "alias.test", "*.wild.test", "wild.test", "Www.Permit.Test.");
        PrecheckRun run = run(settings(), names);
        assertThat(run.degraded()).isFalse();
        assertThat(run.results()).extracting(PrecheckResult::reason).containsExactly(
                PrecheckReason.NO_CAA, PrecheckReason.CAA_PERMITS, PrecheckReason.CAA_NONE_APPLICABLE,
                PrecheckReason.CAA_FORBIDS, PrecheckReason.CAA_CRITICAL_UNKNOWN, PrecheckReason.CAA_ACCOUNTURI_MISMATCH,
                PrecheckReason.CAA_PERMITS, PrecheckReason.CAA_METHOD_MISMATCH, PrecheckReason.CAA_MALFORMED,
                PrecheckReason.CAA_PERMITS, PrecheckReason.CAA_PERMITS, PrecheckReason.CAA_FORBIDS,
                PrecheckReason.CAA_PERMITS, PrecheckReason.CAA_FORBIDS, PrecheckReason.CAA_PERMITS);
        PrecheckResult forbid = run.results().get(3);
        assertThat(forbid.verdict()).isEqualTo(PrecheckVerdict.BLOCKED);
        assertThat(forbid.level()).contains("forbid.test");
        assertThat(forbid.evidence().rcode()).contains("NOERROR");
        assertThat(forbid.evidence().records()).containsExactly("forbid.test. CAA 0 issue \"ca.com\"");
        assertThat(forbid.evidence().resolver()).contains(dns.hostPort());
        assertThat(forbid.detail()).contains("shop.forbid.test", "forbid.test", "\"ca.com\"",
                "0 issue \"letsencrypt.org\"");
        PrecheckResult alias = run.results().get(11);
        assertThat(alias.level()).contains("alias.test");
        assertThat(alias.evidence().records()).hasSize(2).anySatisfy(t -> assertThat(t).contains("CNAME"));
        assertThat(run.results().get(12).name().orElseThrow().wildcard()).isTrue();
        assertThat(run.results().get(14).name().orElseThrow().name()).isEqualTo("www.permit.test");
        assertThat(run.results().get(0).verdict()).isEqualTo(PrecheckVerdict.ALLOWED);
    }

    @Test
    void lookupFailures() throws Exception {
        List<String> names = List.of("a.servfail.test", "www.refused.test", "notimp.test", "formerr.test",
                "yxdomain.test", "x.timeout.test", "trunc.test", "bogus.test", "example.gonetld");
        int timeoutQueries = dns.queries("timeout.test", Type.CAA);
        PrecheckRun run = run(settings(), names);
        assertThat(run.results()).extracting(PrecheckResult::reason).containsExactly(
                PrecheckReason.DNS_SERVFAIL, PrecheckReason.DNS_REFUSED, PrecheckReason.DNS_NOTIMP,
                PrecheckReason.DNS_FORMERR, PrecheckReason.DNS_OTHER, PrecheckReason.DNS_TIMEOUT,
                PrecheckReason.DNS_TRUNCATED, PrecheckReason.DNSSEC_BOGUS, PrecheckReason.TLD_NXDOMAIN);
        assertThat(run.results()).allSatisfy(r -> assertThat(r.verdict()).isEqualTo(PrecheckVerdict.BLOCKED));
        assertThat(run.degraded()).isFalse();
        PrecheckResult servfail = run.results().get(0);
        assertThat(servfail.level()).contains("servfail.test");
        assertThat(servfail.evidence().rcode()).contains("SERVFAIL");
        assertThat(servfail.detail()).isEqualTo("CAA lookup for a.servfail.test failed: the nameserver answered"
                + " SERVFAIL for servfail.test (CAA); ask your DNS provider to answer CAA queries (type 257), an"
                + " empty answer is fine.");
        assertThat(run.results().get(5).evidence().rcode()).isEmpty();
        assertThat(run.results().get(5).detail()).contains("2 tries of 200 ms");
        assertThat(dns.queries("timeout.test", Type.CAA) - timeoutQueries).as("tries").isEqualTo(2);
        assertThat(run.results().get(7).evidence().ede()).hasValueSatisfying(e -> assertThat(e)
                .contains("6 ", "DNSSEC", "RRSIG invalid"));
        assertThat(run.results().get(8).level()).contains("gonetld");
    }

    @Test
    void invalidNamesAreBlockedWithoutAQuery() throws Exception {
        int before = dns.totalQueries();
        PrecheckRun run = run(settings().withHealth(List.of(), 0.5, 10), List.of("not a name", "*.*.x.test",
                "1.2.3.4", "test", ""));
        assertThat(run.results()).allSatisfy(r -> {
            assertThat(r.reason()).isEqualTo(PrecheckReason.INVALID_NAME);
            assertThat(r.name()).isEmpty();
        });
        assertThat(run.results().get(0).detail()).contains("'not a name'");
        assertThat(dns.totalQueries()).isEqualTo(before);
    }

    @Test
    void sharedParentsAreAskedOncePerRun() throws Exception {
        try (TestDnsServer own = TestDnsServer.start("127.0.0.1")) {
            own.caa("shared.test", 0, "issue", "letsencrypt.org");
            List<String> names = IntStream.range(0, 200).mapToObj(i -> "h" + i + ".shared.test").toList();
            CaaSettings s = settings().withResolvers(List.of(own.hostPort())).withConcurrency(64);
            PrecheckRun run = run(s, names);
            assertThat(run.results()).allSatisfy(r -> assertThat(r.reason()).isEqualTo(PrecheckReason.CAA_PERMITS));
            assertThat(own.queries("shared.test", Type.CAA)).isEqualTo(1);
            assertThat(own.queries("test", Type.CAA)).isEqualTo(1);
            assertThat(own.queries("h7.shared.test", Type.CAA)).isEqualTo(1);
            run(s, names.subList(0, 1));
            assertThat(own.queries("shared.test", Type.CAA)).as("a new run asks again").isEqualTo(2);
        }
    }

    @Test
    void retriesRotateOverResolvers() throws Exception {
        try (TestDnsServer dead = TestDnsServer.start("127.0.0.1"); TestDnsServer live = TestDnsServer.start("127.0.0.1")) {
            dead.dropAll(true);
            live.caa("rotate.test", 0, "issue", "letsencrypt.org");
            CaaSettings s = settings().withResolvers(List.of(dead.hostPort(), live.hostPort()))
                    .withTimeout(Duration.ofMillis(200), 3).withHealth(List.of(), 0.5, 10);
            PrecheckRun run = run(s, List.of("a.rotate.test", "b.rotate.test", "c.rotate.test"));
            assertThat(run.results()).allSatisfy(r -> assertThat(r.reason()).isEqualTo(PrecheckReason.CAA_PERMITS));
            assertThat(dead.totalQueries()).isPositive();
        }
    }

    @Test
    void failedCanaryLeavesEveryNameUnchecked() throws Exception {
        CaaSettings s = settings().withHealth(List.of("timeout.test"), 0.5, 10);
        int before = dns.queries("permit.test", Type.CAA);
        PrecheckRun run = run(s, List.of("www.permit.test", "bad name!"));
        assertThat(run.degraded()).isTrue();
        assertThat(run.degradedReason()).hasValueSatisfying(r -> assertThat(r).contains("canary", "timeout.test"));
        assertThat(run.results().get(0).reason()).isEqualTo(PrecheckReason.RESOLVER_DEGRADED);
        assertThat(run.results().get(0).verdict()).isEqualTo(PrecheckVerdict.AT_RISK);
        assertThat(run.results().get(1).reason()).isEqualTo(PrecheckReason.INVALID_NAME);
        assertThat(run.unchecked()).hasSize(1);
        assertThat(dns.queries("permit.test", Type.CAA)).isEqualTo(before);
    }

    @Test
    void manyTimeoutsUnderManyDomainsMakeTheRunDegradedAndNoNameIsBlockedForThem() throws Exception {
        List<String> names = new ArrayList<>();
        IntStream.range(0, 12).forEach(i -> {
            dns.drop("lost" + i + ".test");
            names.add("www.lost" + i + ".test");
        });
        names.add("shop.forbid.test");
        names.add("a.servfail.test");
        PrecheckRun run = run(settings().withTimeout(Duration.ofMillis(100), 1), names);
        assertThat(run.degraded()).isTrue();
        assertThat(run.degradedReason()).hasValueSatisfying(r -> assertThat(r).contains("12 of 14", "12 registered"));
        for (int i = 0; i < 12; i++) {
            PrecheckResult r = run.results().get(i);
            assertThat(r.reason()).isEqualTo(PrecheckReason.RESOLVER_DEGRADED);
            assertThat(r.detail()).contains("Not checked", "lost" + i + ".test");
        }
        assertThat(run.results().get(12).reason()).isEqualTo(PrecheckReason.CAA_FORBIDS);
        assertThat(run.results().get(13).reason()).isEqualTo(PrecheckReason.DNS_SERVFAIL);
    }

    @Test
    void manyNamesUnderOneDeadZoneAreThatCustomersFaultNotOurs() throws Exception {
        // 12 of 14 names time out, but all under timeout.test: the resolver answers everything else, so the
        // names are blocked with their own reason rather than left pending as "our resolver is degraded"
        List<String> names = new ArrayList<>();
        IntStream.range(0, 12).forEach(i -> names.add("n" + i + ".timeout.test"));
        names.add("shop.forbid.test");
        names.add("www.permit.test");
        PrecheckRun run = run(settings().withTimeout(Duration.ofMillis(100), 1), names);
        assertThat(run.degraded()).isFalse();
        assertThat(run.results().subList(0, 12)).allSatisfy(r -> {
            assertThat(r.reason()).isEqualTo(PrecheckReason.DNS_TIMEOUT);
            assertThat(r.verdict()).isEqualTo(PrecheckVerdict.BLOCKED);
        });
        // the same run with the threshold lowered to one domain is degraded: the setting is honoured
        PrecheckRun strict = run(settings().withTimeout(Duration.ofMillis(100), 1).withHealth(settings().canaryNames(), 0.5, 1),
                names);
        assertThat(strict.degraded()).isTrue();
        assertThat(strict.degradedReason()).hasValueSatisfying(r -> assertThat(r).contains("under 1 registered"));
    }

    @Test
    void aRecordThatPinsOnlyOurProductionAccountBlocksANameThatIsRehearsedOnStaging() throws Exception {
        String staging = "https://acme-staging-v02.api.letsencrypt.org/acme/acct/9";
        CaaSettings rehearsed = settings().withRehearsalAccount(Optional.of(staging));
        PrecheckRun run = run(rehearsed, List.of("www.myacct.test", "www.permit.test"));
        PrecheckResult pinned = run.results().get(0);
        assertThat(pinned.reason()).isEqualTo(PrecheckReason.CAA_ACCOUNTURI_MISMATCH);
        assertThat(pinned.verdict()).isEqualTo(PrecheckVerdict.BLOCKED);
        assertThat(pinned.detail()).contains(staging, "rehearses every order on staging");
        assertThat(run.results().get(1).reason()).isEqualTo(PrecheckReason.CAA_PERMITS);
        // the recheck before a production finalize: the rehearsal is behind the names, production's account decides
        try (CaaChecker c = CaaChecker.create(rehearsed)) {
            assertThat(c.check(List.of("www.myacct.test"), ProgressListener.NONE, false).results().get(0).reason())
                    .isEqualTo(PrecheckReason.CAA_PERMITS);
        }
        // without a rehearsal account the production account alone decides
        assertThat(run(settings(), List.of("www.myacct.test")).results().get(0).reason())
                .isEqualTo(PrecheckReason.CAA_PERMITS);
    }

    @Test
    void aResolverAnsweringServfailToEverythingAfterTheCanaryBlockedEveryName() throws Exception {
        try (TestDnsServer broken = TestDnsServer.start("127.0.0.1")) {
            broken.servfailAllAfter(1); // the canary gets its answer, then the upstream breaks
            List<String> names = IntStream.range(0, 12).mapToObj(i -> "n" + i + ".upstream" + i + ".test").toList();
            CaaSettings s = settings().withResolvers(List.of(broken.hostPort())).withHealth(List.of("canary.test"), 0.5, 10);
            PrecheckRun run = run(s, names);
            assertThat(run.degraded()).isTrue();
            assertThat(run.degradedReason()).hasValueSatisfying(r -> assertThat(r).contains("12 of 12", "SERVFAIL"));
            assertThat(run.results()).allSatisfy(r -> assertThat(r.reason()).isEqualTo(PrecheckReason.RESOLVER_DEGRADED));
            assertThat(run.unchecked()).hasSize(12);
        }
    }

    @Test
    void progressIsReported() throws Exception {
        List<ProgressListener.Progress> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (CaaChecker c = CaaChecker.create(settings())) {
            c.check(List.of("www.permit.test", "shop.forbid.test", "x y"), seen::add);
        }
        assertThat(seen).hasSize(3);
        assertThat(seen).extracting(ProgressListener.Progress::done).containsExactlyInAnyOrder(1, 2, 3);
        assertThat(seen.stream().mapToInt(ProgressListener.Progress::blocked).max().orElse(0)).isEqualTo(2);
    }
}
