package io.certfleet.acme;

import static org.assertj.core.api.Assertions.assertThat;

import io.certfleet.model.Blame;
import io.certfleet.model.CaLimit;
import io.certfleet.model.CaProblem;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.toolbox.JSON;

/** Attribution from recorded Boulder problem documents, read through acme4j's own Problem parser. */
class ProblemAttributionTest {

    static CaProblem recorded(String name) {
        try (InputStream in = ProblemAttributionTest.class.getResourceAsStream("/acme-problems/" + name + ".json")) {
            String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return ErrorMapper.toCaProblem(new Problem(JSON.parse(json), new URL("https://ca.test/acme/new-order")));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final List<String> ORDER = List.of("ok.example.com", "bad.example.com", "bad1.example.com",
            "bad2.example.com", "a.example.org", "b.example.org", "c.example.org", "flaky.example.net",
            "p1.example.com", "*.wild.example.com");

    @Test
    void identifierLimitIsReadFromBouldersNewOrderWordings() {
        assertThat(ProblemAttribution.identifierLimit("Error creating new order :: Order cannot contain more than 100 "
                + "identifiers")).hasValue(100);
        assertThat(ProblemAttribution.identifierLimit("Order cannot contain more than 25 identifiers")).hasValue(25);
        assertThat(ProblemAttribution.identifierLimit("Order cannot contain more than 100 DNS names")).hasValue(100);
        assertThat(ProblemAttribution.identifierLimit("Cannot issue for \"x.example\": policy")).isEmpty();
        assertThat(ProblemAttribution.identifierLimit("Order cannot contain more than many identifiers")).isEmpty();
    }

    @Test
    void oneRejectedNameWithoutSubproblemsIsReadFromTheDetail() {
        Blame b = ProblemAttribution.attribute(recorded("rejected-one"), ORDER);
        assertThat(b.names()).containsExactly("bad.example.com");
        assertThat(b.basis()).isEqualTo(Blame.Basis.DETAIL_TEXT);
    }

    @Test
    void severalRejectedNamesComeFromSubproblemIdentifiers() {
        CaProblem p = recorded("rejected-several");
        assertThat(p.subproblems()).hasSize(2);
        Blame b = ProblemAttribution.attribute(p, ORDER);
        assertThat(b.names()).containsExactly("bad1.example.com", "bad2.example.com");
        assertThat(b.basis()).isEqualTo(Blame.Basis.IDENTIFIERS);
    }

    @Test
    void finalizeCaaRecheckOfOneNameStripsThePrefixes() {
        Blame b = ProblemAttribution.attribute(recorded("finalize-caa-one"), ORDER);
        assertThat(b.names()).containsExactly("b.example.org");
    }

    @Test
    void finalizeCaaRecheckOfSeveralNamesUsesSubproblems() {
        Blame b = ProblemAttribution.attribute(recorded("finalize-caa-several"), ORDER);
        assertThat(b.names()).containsExactly("a.example.org", "c.example.org");
        assertThat(b.basis()).isEqualTo(Blame.Basis.IDENTIFIERS);
    }

    @Test
    void failedAuthorizationRateLimitBlamesTheQuotedName() {
        assertThat(ProblemAttribution.attribute(recorded("ratelimit-failed-authz"), ORDER).names())
                .containsExactly("flaky.example.net");
    }

    @Test
    void registeredDomainLimitNamesAScopeThatIsNotAMember() {
        CaProblem p = recorded("ratelimit-registered-domain");
        assertThat(ProblemAttribution.attribute(p, ORDER).namesNobody()).isTrue();
        assertThat(ProblemAttribution.namesInDetail(p.detail())).containsExactly("example.net");
    }

    @Test
    void accountWideLimitNamesNobody() {
        assertThat(ProblemAttribution.attribute(recorded("ratelimit-orders"), ORDER).namesNobody()).isTrue();
    }

    @Test
    void pausedDetailNamesUnquotedMembersAndTheUnpauseUrl() {
        CaProblem p = recorded("paused");
        assertThat(ProblemAttribution.isPaused(p.detail())).isTrue();
        assertThat(ProblemAttribution.attribute(p, ORDER).names()).containsExactly("p1.example.com");
        assertThat(ProblemAttribution.namesInDetail(p.detail())).containsExactly("p1.example.com", "p2.example.com");
        assertThat(ProblemAttribution.unpauseUrl(p.detail()))
                .hasValue("https://portal.letsencrypt.org/sfe/v1/unpause?jwt=eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl");
    }

    @Test
    void genericProblemWithoutANameBlamesNobody() {
        assertThat(ProblemAttribution.attribute(recorded("generic-finalize"), ORDER)).isEqualTo(Blame.nobody());
    }

    @Test
    void aDetailNamingANonMemberBlamesNobody() {
        assertThat(ProblemAttribution.attribute(recorded("non-member"), ORDER).namesNobody()).isTrue();
    }

    @Test
    void aBaseNameInTheDetailBlamesTheWildcardMember() {
        CaProblem p = CaProblem.of("caa", "While processing CAA for wild.example.com: CAA record for "
                + "example.com prevents issuance");
        assertThat(ProblemAttribution.attribute(p, ORDER).names()).containsExactly("*.wild.example.com");
    }

    @Test
    void matchingIgnoresCaseAndTrailingDots() {
        CaProblem p = new CaProblem("urn:ietf:params:acme:error:rejectedIdentifier", "x",
                Optional.empty(), List.of(new CaProblem("urn:ietf:params:acme:error:caa", "",
                        Optional.of("OK.Example.COM."), List.of())));
        assertThat(ProblemAttribution.attribute(p, ORDER).names()).containsExactly("ok.example.com");
    }

    @Test
    void subproblemIdentifiersOutsideTheOrderFallBackToText() {
        CaProblem p = new CaProblem("urn:ietf:params:acme:error:rejectedIdentifier",
                "Cannot issue for \"bad.example.com\": policy", Optional.empty(),
                List.of(new CaProblem("urn:ietf:params:acme:error:rejectedIdentifier", "policy",
                        Optional.of("stranger.example.com"), List.of())));
        Blame b = ProblemAttribution.attribute(p, ORDER);
        assertThat(b.names()).containsExactly("bad.example.com");
        assertThat(b.basis()).isEqualTo(Blame.Basis.DETAIL_TEXT);
    }

    @Test
    void eachRateLimitWordingNamesItsLimitAndItsSubject() {
        assertThat(ProblemAttribution.limitOf(recorded("ratelimit-orders").detail())).hasValue(CaLimit.NEW_ORDERS);
        assertThat(ProblemAttribution.limitSubject(recorded("ratelimit-orders").detail())).isEmpty();
        assertThat(ProblemAttribution.limitOf(recorded("ratelimit-registered-domain").detail()))
                .hasValue(CaLimit.CERTIFICATES_PER_DOMAIN);
        assertThat(ProblemAttribution.limitSubject(recorded("ratelimit-registered-domain").detail()))
                .hasValue("example.net");
        assertThat(ProblemAttribution.limitOf(recorded("ratelimit-exact-set").detail())).hasValue(CaLimit.EXACT_SET);
        assertThat(ProblemAttribution.limitSubject(recorded("ratelimit-exact-set").detail())).isEmpty();
        assertThat(ProblemAttribution.limitOf(recorded("ratelimit-failed-authz").detail()))
                .hasValue(CaLimit.FAILED_AUTHORIZATIONS);
        assertThat(ProblemAttribution.limitSubject(recorded("ratelimit-failed-authz").detail()))
                .hasValue("flaky.example.net");
    }

    @Test
    void thePausedWordingAndUnknownWordingsNameNoLimit() {
        assertThat(ProblemAttribution.limitOf(recorded("paused").detail())).isEmpty();
        assertThat(ProblemAttribution.limitOf("too many new registrations (10) from this IP address in the last "
                + "3h0m0s, retry after 2026-08-30 10:00:00 UTC")).isEmpty();
    }

    @Test
    void theRetryAfterTimeOfTheDetailIsReadWhenTheHeaderIsMissing() {
        assertThat(ProblemAttribution.retryAfterInDetail(recorded("ratelimit-exact-set").detail()))
                .hasValue(java.time.Instant.parse("2026-08-30T10:00:00Z"));
        assertThat(ProblemAttribution.retryAfterInDetail("too many new orders, retry after soon")).isEmpty();
    }
}
