package io.certfleet.caa;

import io.certfleet.model.PrecheckReason;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import static io.certfleet.model.PrecheckReason.CAA_ACCOUNTURI_MISMATCH;
import static io.certfleet.model.PrecheckReason.CAA_CRITICAL_UNKNOWN;
import static io.certfleet.model.PrecheckReason.CAA_FORBIDS;
import static io.certfleet.model.PrecheckReason.CAA_MALFORMED;
import static io.certfleet.model.PrecheckReason.CAA_METHOD_MISMATCH;
import static io.certfleet.model.PrecheckReason.CAA_NONE_APPLICABLE;
import static io.certfleet.model.PrecheckReason.CAA_PERMITS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/** Boulder's record rules (va/caa.go filterCAA, validateCAA, parseCAARecord, RFC 8657 parameters), table-driven. */
class CaaPolicyTest {

    static final String ACCT = "https://acme-v02.api.letsencrypt.org/acme/acct/123";
    static final CaaPolicy HTTP = new CaaPolicy(Set.of("letsencrypt.org"), Optional.of(ACCT), "http-01");

    /** Records written as "flags tag value" with '|' between records. */
    static List<CaaProperty> set(String spec) {
        List<CaaProperty> out = new ArrayList<>();
        for (String r : spec.split("\\|")) {
            String[] p = r.split(" ", 3);
            out.add(new CaaProperty(Integer.parseInt(p[0]), p[1], p.length > 2 ? p[2] : ""));
        }
        return out;
    }

    static Stream<Arguments> nonWildcard() {
        return Stream.of(
                arguments("plain issue", "0 issue letsencrypt.org", CAA_PERMITS),
                arguments("mixed-case tag (mixedcase.com)", "0 iSsUe letsencrypt.org", CAA_PERMITS),
                arguments("other CA only", "0 issue ca.com", CAA_FORBIDS),
                arguments("records are OR'ed", "0 issue ca.com|0 issue letsencrypt.org", CAA_PERMITS),
                arguments("unknown critical 128 beats a permit", "128 tbs Unknown|0 issue letsencrypt.org",
                        CAA_CRITICAL_UNKNOWN),
                arguments("unknown critical flag 1", "1 tbs Unknown|0 issue letsencrypt.org", CAA_CRITICAL_UNKNOWN),
                arguments("unknown critical flag 9", "9 tbs Unknown|0 issue letsencrypt.org", CAA_CRITICAL_UNKNOWN),
                arguments("unknown flag 0x7E ignored", "126 tbs Unknown|0 issue letsencrypt.org", CAA_PERMITS),
                arguments("known tag with critical flag is not unknown", "128 issuemail x|0 issue letsencrypt.org",
                        CAA_PERMITS),
                arguments("unsatisfiable issue \";\"", "0 issue ;", CAA_FORBIDS),
                arguments("empty issue", "0 issue ", CAA_FORBIDS),
                arguments("bare ; after issuer", "0 issue letsencrypt.org;", CAA_PERMITS),
                arguments("whitespace around issuer and parameters", "0 issue \tletsencrypt.org ; foo = bar ",
                        CAA_PERMITS),
                arguments("unknown parameter (present-with-parameter)", "0 issue letsencrypt.org; foo=bar",
                        CAA_PERMITS),
                arguments("value may contain '='", "0 issue letsencrypt.org; foo=a=b", CAA_PERMITS),
                arguments("hyphenated parameter tag", "0 issue letsencrypt.org; a-b=c", CAA_MALFORMED),
                arguments("underscore parameter tag", "0 issue letsencrypt.org; a_b=c", CAA_MALFORMED),
                arguments("space inside value", "0 issue letsencrypt.org; foo=a b", CAA_MALFORMED),
                arguments("trailing ; after a parameter", "0 issue letsencrypt.org; foo=bar;", CAA_MALFORMED),
                arguments("parameter without =", "0 issue letsencrypt.org; foo", CAA_MALFORMED),
                arguments("malformed other CA + good ours", "0 issue ca.com; a-b=c|0 issue letsencrypt.org",
                        CAA_PERMITS),
                arguments("malformed other CA only", "0 issue ca.com; a-b=c|0 issue digicert.com", CAA_FORBIDS),
                arguments("issuer compare is case-sensitive", "0 issue LetsEncrypt.org", CAA_FORBIDS),
                arguments("issuer compare keeps trailing dot", "0 issue letsencrypt.org.", CAA_FORBIDS),
                arguments("issuewild ignored for non-wildcard", "0 issuewild letsencrypt.org", CAA_NONE_APPLICABLE),
                arguments("issuewild ignored, issue forbids", "0 issuewild letsencrypt.org|0 issue ca.com",
                        CAA_FORBIDS),
                arguments("iodef only", "0 iodef mailto:a@example.com", CAA_NONE_APPLICABLE),
                arguments("accounturi missing matches", "0 issue letsencrypt.org; validationmethods=http-01",
                        CAA_PERMITS),
                arguments("accounturi matches", "0 issue letsencrypt.org; accounturi=" + ACCT, CAA_PERMITS),
                arguments("accounturi mismatch", "0 issue letsencrypt.org; accounturi="
                        + "https://acme-v02.api.letsencrypt.org/acme/acct/456", CAA_ACCOUNTURI_MISMATCH),
                arguments("two accounturi never match",
                        "0 issue letsencrypt.org; accounturi=" + ACCT + "; accounturi=" + ACCT,
                        CAA_ACCOUNTURI_MISMATCH),
                arguments("empty accounturi", "0 issue letsencrypt.org; accounturi=", CAA_ACCOUNTURI_MISMATCH),
                arguments("accounturi mismatch but a second record permits",
                        "0 issue letsencrypt.org; accounturi=https://x/acct/1|0 issue letsencrypt.org", CAA_PERMITS),
                arguments("validationmethods matches", "0 issue letsencrypt.org; validationmethods=http-01",
                        CAA_PERMITS),
                arguments("validationmethods list", "0 issue letsencrypt.org; validationmethods=dns-01,http-01",
                        CAA_PERMITS),
                arguments("validationmethods other method", "0 issue letsencrypt.org; validationmethods=dns-01",
                        CAA_METHOD_MISMATCH),
                arguments("validationmethods twice",
                        "0 issue letsencrypt.org; validationmethods=http-01; validationmethods=http-01",
                        CAA_METHOD_MISMATCH),
                arguments("validationmethods is case-sensitive", "0 issue letsencrypt.org; validationmethods=HTTP-01",
                        CAA_METHOD_MISMATCH),
                arguments("validationmethods bare ,", "0 issue letsencrypt.org; validationmethods=,",
                        CAA_METHOD_MISMATCH),
                arguments("validationmethods empty", "0 issue letsencrypt.org; validationmethods=",
                        CAA_METHOD_MISMATCH),
                arguments("validationmethods unknown item skipped",
                        "0 issue letsencrypt.org; validationmethods=foo-99,http-01", CAA_PERMITS),
                arguments("validationmethods bad item fails the record",
                        "0 issue letsencrypt.org; validationmethods=http_01,http-01", CAA_METHOD_MISMATCH),
                arguments("account checked before method", "0 issue letsencrypt.org; accounturi=https://x/acct/1;"
                        + " validationmethods=dns-01", CAA_ACCOUNTURI_MISMATCH));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nonWildcard")
    void nonWildcardNames(String title, String records, PrecheckReason expected) {
        assertThat(HTTP.evaluate(set(records), false).reason()).isEqualTo(expected);
    }

    static Stream<Arguments> wildcard() {
        return Stream.of(
                arguments("issuewild replaces issue", "0 issue ca.com|0 issuewild letsencrypt.org", CAA_PERMITS),
                arguments("issuewild forbids although issue permits", "0 issue letsencrypt.org|0 issuewild ca.com",
                        CAA_FORBIDS),
                arguments("no issuewild: issue applies", "0 issue letsencrypt.org", CAA_PERMITS),
                arguments("no issuewild: issue forbids", "0 issue ca.com", CAA_FORBIDS),
                arguments("issuewild \";\"", "0 issue letsencrypt.org|0 issuewild ;", CAA_FORBIDS),
                arguments("iodef only", "0 iodef mailto:a@example.com", CAA_NONE_APPLICABLE),
                arguments("http-01 only blocks a dns-01 wildcard",
                        "0 issuewild letsencrypt.org; validationmethods=http-01", CAA_METHOD_MISMATCH));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wildcard")
    void wildcardNames(String title, String records, PrecheckReason expected) {
        CaaPolicy dns = new CaaPolicy(Set.of("letsencrypt.org"), Optional.of(ACCT), "dns-01");
        assertThat(dns.evaluate(set(records), true).reason()).isEqualTo(expected);
    }

    @org.junit.jupiter.api.Test
    void wildcardsAreCheckedForDns01WhateverTheOrdersMethod() {
        // Let's Encrypt validates wildcard names with DNS-01 only: an http-01 policy must not let
        // validationmethods=http-01 authorise a wildcard, nor let validationmethods=dns-01 forbid one
        assertThat(HTTP.evaluate(set("0 issuewild letsencrypt.org; validationmethods=http-01"), true).reason())
                .isEqualTo(CAA_METHOD_MISMATCH);
        assertThat(HTTP.evaluate(set("0 issuewild letsencrypt.org; validationmethods=http-01"), true).explanation())
                .contains("dns-01", "wildcard");
        assertThat(HTTP.evaluate(set("0 issue letsencrypt.org; validationmethods=dns-01"), true).reason())
                .isEqualTo(CAA_PERMITS);
        assertThat(HTTP.evaluate(set("0 issue letsencrypt.org; validationmethods=dns-01"), false).reason())
                .isEqualTo(CAA_METHOD_MISMATCH);
    }

    @org.junit.jupiter.api.Test
    void anotherAccountSeesTheSameRecordsWithItsOwnUri() {
        String staging = "https://acme-staging-v02.api.letsencrypt.org/acme/acct/9";
        CaaPolicy rehearsal = HTTP.forAccount(Optional.of(staging));
        String pinned = "0 issue letsencrypt.org; accounturi=" + ACCT;
        assertThat(HTTP.evaluate(set(pinned), false).reason()).isEqualTo(CAA_PERMITS);
        assertThat(rehearsal.evaluate(set(pinned), false).reason()).isEqualTo(CAA_ACCOUNTURI_MISMATCH);
        assertThat(rehearsal.evaluate(set(pinned + "|0 issue letsencrypt.org; accounturi=" + staging), false).reason())
                .isEqualTo(CAA_PERMITS);
    }

    @org.junit.jupiter.api.Test
    void withoutAnAccountUriNoAccounturiRecordMatches() {
        CaaPolicy noAccount = new CaaPolicy(Set.of("letsencrypt.org"), Optional.empty(), "http-01");
        assertThat(noAccount.evaluate(set("0 issue letsencrypt.org; accounturi=" + ACCT), false).reason())
                .isEqualTo(CAA_ACCOUNTURI_MISMATCH);
        assertThat(noAccount.evaluate(set("0 issue letsencrypt.org"), false).reason()).isEqualTo(CAA_PERMITS);
    }

    @org.junit.jupiter.api.Test
    void dnsMethodIsCaseSensitiveToo() {
        CaaPolicy dns = new CaaPolicy(Set.of("letsencrypt.org"), Optional.empty(), "dns-01");
        assertThat(dns.evaluate(set("0 issue letsencrypt.org; validationmethods=DNS-01"), false).reason())
                .isEqualTo(CAA_METHOD_MISMATCH);
        assertThat(dns.evaluate(set("0 issue letsencrypt.org; validationmethods=dns-01"), false).reason())
                .isEqualTo(CAA_PERMITS);
    }

    @org.junit.jupiter.api.Test
    void callerSuppliedIdentitiesFromMetaCaaIdentities() {
        CaaPolicy staging = new CaaPolicy(Set.of("letsencrypt.org", "staging.example"), Optional.empty(), "http-01");
        assertThat(staging.evaluate(set("0 issue staging.example"), false).reason()).isEqualTo(CAA_PERMITS);
        assertThat(HTTP.evaluate(set("0 issue staging.example"), false).reason()).isEqualTo(CAA_FORBIDS);
    }

    @org.junit.jupiter.api.Test
    void parsesIssuerAndParametersLikeBoulder() {
        assertThat(CaaValue.parse(" letsencrypt.org ;\tvalidationmethods = http-01 ;accounturi=x"))
                .hasValueSatisfying(v -> {
                    assertThat(v.issuerDomain()).isEqualTo("letsencrypt.org");
                    assertThat(v.values("validationmethods")).containsExactly("http-01");
                    assertThat(v.values("accounturi")).containsExactly("x");
                });
        assertThat(CaaValue.parse("letsencrypt.org; =x")).isPresent();
        assertThat(CaaValue.parse("letsencrypt.org; a=b;")).isEmpty();
        assertThat(CaaValue.parse(";")).hasValueSatisfying(v -> assertThat(v.issuerDomain()).isEmpty());
    }
}
