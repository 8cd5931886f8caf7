package io.certfleet.caa;

import io.certfleet.model.DomainName;
import io.certfleet.model.PrecheckReason;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.CAARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** selectCAA over level answers, and Boulder's rcode rules, without a network. */
class SelectionAndClassificationTest {

    static final CaaPolicy POLICY = new CaaPolicy(Set.of("letsencrypt.org"), Optional.empty(), "http-01");
    static final Duration SECOND = Duration.ofSeconds(1);

    static LevelAnswer empty(String name) {
        return LevelAnswer.records(name, "NOERROR", List.of(), List.of(), Optional.empty());
    }

    static LevelAnswer records(String name, String spec) {
        List<CaaProperty> caa = CaaPolicyTest.set(spec);
        return LevelAnswer.records(name, "NOERROR", caa, caa.stream().map(CaaProperty::text).toList(),
                Optional.empty());
    }

    static LevelAnswer failed(String name, PrecheckReason r) {
        return LevelAnswer.failed(name, r, Optional.of("SERVFAIL"), Optional.empty(), Optional.empty(),
                "the nameserver answered " + r);
    }

    static CaaChecker.Decision decide(String name, LevelAnswer... answers) throws Exception {
        return CaaChecker.decide(POLICY, List.of("letsencrypt.org"), DomainName.parse(name), List.of(answers));
    }

    @Test
    void recordsBelowAFailureDecide_presentServfail() throws Exception {
        var d = decide("present.servfail.com", records("present.servfail.com", "0 issue letsencrypt.org"),
                failed("servfail.com", PrecheckReason.DNS_SERVFAIL), empty("com"));
        assertThat(d.reason()).isEqualTo(PrecheckReason.CAA_PERMITS);
        assertThat(d.level()).contains("present.servfail.com");
    }

    @Test
    void failureBelowTheRecordsFailsEvenIfAParentPermits() throws Exception {
        var d = decide("a.servfail.com", empty("a.servfail.com"), failed("servfail.com", PrecheckReason.DNS_SERVFAIL),
                records("com", "0 issue letsencrypt.org"));
        assertThat(d.reason()).isEqualTo(PrecheckReason.DNS_SERVFAIL);
        assertThat(d.level()).contains("servfail.com");
        assertThat(d.detail()).contains("a.servfail.com").contains("SERVFAIL", "servfail.com (CAA)");
    }

    @Test
    void failureAtTheTldWithNoRecordsFails() throws Exception {
        var d = decide("a.example.com", empty("a.example.com"), empty("example.com"),
                failed("com", PrecheckReason.DNS_TIMEOUT));
        assertThat(d.reason()).isEqualTo(PrecheckReason.DNS_TIMEOUT);
        assertThat(d.level()).contains("com");
    }

    @Test
    void noRecordsAnywhereAllows() throws Exception {
        var d = decide("a.example.com", empty("a.example.com"), empty("example.com"), empty("com"));
        assertThat(d.reason()).isEqualTo(PrecheckReason.NO_CAA);
        assertThat(d.level()).isEmpty();
    }

    @Test
    void iodefOnlyStopsTheClimbAndAllows() throws Exception {
        var d = decide("a.example.com", records("a.example.com", "0 iodef mailto:x@example.com"),
                records("example.com", "0 issue ca.com"), empty("com"));
        assertThat(d.reason()).isEqualTo(PrecheckReason.CAA_NONE_APPLICABLE);
        assertThat(d.reason().verdict().wire()).isEqualTo("allowed");
    }

    @Test
    void closestSetWinsOverAParent() throws Exception {
        var d = decide("a.example.com", empty("a.example.com"), records("example.com", "0 issue ca.com"),
                records("com", "0 issue letsencrypt.org"));
        assertThat(d.reason()).isEqualTo(PrecheckReason.CAA_FORBIDS);
        assertThat(d.level()).contains("example.com");
        assertThat(d.detail()).contains("prevents issuance", "a.example.com", "\"ca.com\"");
    }

    @Test
    void wildcardUsesIssuewildOfTheBaseName() throws Exception {
        var d = decide("*.example.com", records("example.com", "0 issue letsencrypt.org|0 issuewild ca.com"),
                empty("com"));
        assertThat(d.reason()).isEqualTo(PrecheckReason.CAA_FORBIDS);
        assertThat(d.detail()).contains("*.example.com", "issuewild");
    }

    static Message response(String name, int rcode) {
        Message m = Message.newQuery(org.xbill.DNS.Record.newRecord(Name.fromConstantString(name + "."), Type.CAA,
                DClass.IN));
        m.getHeader().setFlag(Flags.QR);
        m.getHeader().setRcode(rcode);
        return m;
    }

    static LevelAnswer classify(String name, Message m) {
        return AnswerClassifier.classifyCaa(name, new Exchange("127.0.0.1:53", Optional.of(m), false,
                Optional.empty(), 1), SECOND);
    }

    @Test
    void nxdomainBelowTheTldIsEmpty_atTheTldIsAFailure() {
        assertThat(classify("example.gonetld", response("example.gonetld", Rcode.NXDOMAIN)).status())
                .isEqualTo(LevelAnswer.Status.EMPTY);
        LevelAnswer tld = classify("gonetld", response("gonetld", Rcode.NXDOMAIN));
        assertThat(tld.failure()).contains(PrecheckReason.TLD_NXDOMAIN);
        assertThat(tld.rcode()).contains("NXDOMAIN");
    }

    @Test
    void everyOtherRcodeIsAFailure() {
        assertThat(classify("a.com", response("a.com", Rcode.SERVFAIL)).failure()).contains(PrecheckReason.DNS_SERVFAIL);
        assertThat(classify("a.com", response("a.com", Rcode.REFUSED)).failure()).contains(PrecheckReason.DNS_REFUSED);
        assertThat(classify("a.com", response("a.com", Rcode.NOTIMP)).failure()).contains(PrecheckReason.DNS_NOTIMP);
        assertThat(classify("a.com", response("a.com", Rcode.FORMERR)).failure()).contains(PrecheckReason.DNS_FORMERR);
        assertThat(classify("a.com", response("a.com", Rcode.YXDOMAIN)).failure()).contains(PrecheckReason.DNS_OTHER);
    }

    @Test
    void truncatedIsAFailureEvenWithRecords() {
        Message m = response("a.com", Rcode.NOERROR);
        m.getHeader().setFlag(Flags.TC);
        m.addRecord(new CAARecord(Name.fromConstantString("a.com."), DClass.IN, 60, 0, "issue", "letsencrypt.org"),
                Section.ANSWER);
        assertThat(classify("a.com", m).failure()).contains(PrecheckReason.DNS_TRUNCATED);
    }

    @Test
    void servfailWithBogusEdeIsDnssecBogus_otherEdeStaysServfail() {
        Message bogus = response("a.com", Rcode.SERVFAIL);
        bogus.addRecord(new OPTRecord(4096, 0, 0, 0, List.of(new ExtendedErrorCodeOption(
                ExtendedErrorCodeOption.SIGNATURE_EXPIRED, "expired 2026-01-01"))), Section.ADDITIONAL);
        LevelAnswer a = classify("a.com", bogus);
        assertThat(a.failure()).contains(PrecheckReason.DNSSEC_BOGUS);
        assertThat(a.ede()).hasValueSatisfying(e -> assertThat(e).contains("7", "expired 2026-01-01"));

        Message net = response("a.com", Rcode.SERVFAIL);
        net.addRecord(new OPTRecord(4096, 0, 0, 0, List.of(new ExtendedErrorCodeOption(
                ExtendedErrorCodeOption.NO_REACHABLE_AUTHORITY))), Section.ADDITIONAL);
        LevelAnswer b = classify("a.com", net);
        assertThat(b.failure()).contains(PrecheckReason.DNS_SERVFAIL);
        assertThat(b.ede()).isPresent();
    }

    @Test
    void timeoutAfterTriesIsDnsTimeout() {
        LevelAnswer a = AnswerClassifier.classifyCaa("a.com", new Exchange("127.0.0.1:53", Optional.empty(), true,
                Optional.empty(), 3), SECOND);
        assertThat(a.failure()).contains(PrecheckReason.DNS_TIMEOUT);
        assertThat(a.failureText()).contains("3 tries of 1 s");
    }

    @Test
    void caaAtTheEndOfACnameChainCounts() {
        Message m = response("www.a.com", Rcode.NOERROR);
        m.addRecord(new org.xbill.DNS.CNAMERecord(Name.fromConstantString("www.a.com."), DClass.IN, 60,
                Name.fromConstantString("cdn.b.net.")), Section.ANSWER);
        m.addRecord(new CAARecord(Name.fromConstantString("cdn.b.net."), DClass.IN, 60, 0, "issue", "ca.com"),
                Section.ANSWER);
        LevelAnswer a = classify("www.a.com", m);
        assertThat(a.hasRecords()).isTrue();
        assertThat(a.texts()).hasSize(2).first().asString().contains("CNAME");
    }
}
