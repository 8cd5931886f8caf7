package io.certfleet.caa;

import io.certfleet.model.PrecheckReason;
import io.certfleet.model.PrecheckRun;
import io.certfleet.testsupport.dns.TestDnsServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.CAARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Our own DNSSEC validation (dnsjava ValidatingResolver) against a zone signed in the test, with a test anchor. */
class DnssecValidationIT {

    static final Name ZONE = Name.fromConstantString("signed.test.");

    @Test
    void bogusSignatureIsDnssecBogus_validDataPasses(@TempDir Path dir) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        DNSKEYRecord key = new DNSKEYRecord(ZONE, DClass.IN, 3600, 257, DNSKEYRecord.Protocol.DNSSEC,
                DNSSEC.Algorithm.ECDSAP256SHA256, kp.getPublic());
        Instant now = Instant.now();
        try (TestDnsServer dns = TestDnsServer.start("127.0.0.1")) {
            signed(dns, key, kp, now, key);
            signed(dns, key, kp, now, caa("signed.test.", "letsencrypt.org"));
            signed(dns, key, kp, now, caa("good.signed.test.", "letsencrypt.org"));
            signed(dns, key, kp, now, caa("forbid.signed.test.", "ca.com"));
            // bogus: the signature covers "letsencrypt.org" but the server serves "ca.com"
            RRSIGRecord sig = DNSSEC.sign(new RRset(caa("bad.signed.test.", "letsencrypt.org")), key,
                    kp.getPrivate(), now.minusSeconds(3600), now.plusSeconds(86400));
            dns.record(caa("bad.signed.test.", "ca.com")).record(sig);
            Path anchor = dir.resolve("test-anchor.txt");
            Files.writeString(anchor, key + "\n");

            CaaSettings s = CaaSettings.defaults().withResolvers(List.of(dns.hostPort()))
                    .withTimeout(Duration.ofMillis(500), 2).withSweep(false, 53)
                    .withCa(List.of("letsencrypt.org"), Optional.empty(), "http-01")
                    .withDnssecAnchor(Optional.of(anchor)).withHealth(List.of(), 0.5, 10);
            try (CaaChecker c = CaaChecker.create(s)) {
                PrecheckRun run = c.check(List.of("good.signed.test", "bad.signed.test", "forbid.signed.test"));
                assertThat(run.results().get(0).reason()).isEqualTo(PrecheckReason.CAA_PERMITS);
                assertThat(run.results().get(1).reason()).as(run.results().get(1).detail())
                        .isEqualTo(PrecheckReason.DNSSEC_BOGUS);
                assertThat(run.results().get(1).level()).contains("bad.signed.test");
                assertThat(run.results().get(2).reason()).isEqualTo(PrecheckReason.CAA_FORBIDS);
            }
            // Without our own validation the bogus record is taken at face value.
            try (CaaChecker c = CaaChecker.create(s.withDnssecAnchor(Optional.empty()))) {
                assertThat(c.check(List.of("bad.signed.test")).results().get(0).reason())
                        .isEqualTo(PrecheckReason.CAA_FORBIDS);
            }
        }
    }

    @Test
    void shippedRootAnchorsLoad() throws Exception {
        Path anchors = Path.of("config/root-anchors.txt");
        assertThat(anchors).isReadable();
        try (CaaChecker c = CaaChecker.create(CaaSettings.defaults().withResolvers(List.of("127.0.0.1:53"))
                .withDnssecAnchor(Optional.of(anchors)))) {
            assertThat(c.resolvers()).containsExactly("127.0.0.1:53");
        }
    }

    static CAARecord caa(String name, String issuer) {
        return new CAARecord(Name.fromConstantString(name), DClass.IN, 3600, 0, "issue", issuer);
    }

    static void signed(TestDnsServer dns, DNSKEYRecord key, KeyPair kp, Instant now, Record r) throws Exception {
        RRSIGRecord sig = DNSSEC.sign(new RRset(r), key, kp.getPrivate(), now.minusSeconds(3600),
                now.plusSeconds(86400));
        dns.record(r).record(sig);
    }
}
