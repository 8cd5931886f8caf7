package io.certfleet.acme;

import static org.assertj.core.api.Assertions.assertThat;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaProblem;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeRateLimitedException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.shredzone.acme4j.toolbox.JSON;

/** acme4j exceptions built from recorded problems map to the right CaException with the right decision data. */
class ErrorMapperTest {

    private static final Instant NOW = Instant.parse("2026-08-30T08:00:00Z");
    private final ErrorMapper mapper = new ErrorMapper(CaEnvironment.STAGING, Clock.fixed(NOW, ZoneOffset.UTC));
    private static final List<String> ORDER = List.of("ok.example.com", "bad.example.com", "p1.example.com",
            "flaky.example.net", "b.example.org");

    @BeforeEach
    void noLastResponse() {
        ObservingHttpClient.clear();
    }

    static Problem problem(String name) throws IOException {
        try (InputStream in = ErrorMapperTest.class.getResourceAsStream("/acme-problems/" + name + ".json")) {
            return new Problem(JSON.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)),
                    new URL("https://ca.test/acme/x"));
        }
    }

    @Test
    void rejectedIdentifierAtNewOrderIsARejectionBlamingTheName() throws Exception {
        CaException e = mapper.map(new AcmeServerException(problem("rejected-one")), CaRequest.NEW_ORDER,
                Optional.empty(), ORDER);
        assertThat(e).isInstanceOf(CaRejectedException.class);
        assertThat(((CaRejectedException) e).blame().names()).containsExactly("bad.example.com");
        assertThat(e.getMessage()).startsWith("staging NEW_ORDER: rejected");
    }

    /** Regression: this refusal named nobody, so the pipeline bisected the batch and quarantined an innocent name. */
    @Test
    void tooManyIdentifiersAtNewOrderIsOurPackingNotARejectionOfTheNames() throws Exception {
        CaException e = mapper.map(new AcmeServerException(problem("too-many-identifiers")), CaRequest.NEW_ORDER,
                Optional.empty(), ORDER);
        assertThat(e).isInstanceOfSatisfying(CaOrderTooLargeException.class, t -> {
            assertThat(t.maxIdentifiers()).isEqualTo(3);
            assertThat(t.requested()).isEqualTo(5);
        });
        assertThat(e).isNotInstanceOf(CaRejectedException.class);
        assertThat(e.getMessage()).contains("order of 5 identifiers").contains("limit of 3");
        // the same words at another request are not a packing limit
        assertThat(mapper.map(new AcmeServerException(problem("too-many-identifiers")), CaRequest.FINALIZE,
                Optional.empty(), ORDER)).isNotInstanceOf(CaOrderTooLargeException.class);
    }

    @Test
    void genericFinalizeProblemIsARejectionThatNamesNobody() throws Exception {
        URL order = new URL("https://ca.test/acme/order/1");
        CaException e = mapper.map(new AcmeServerException(problem("generic-finalize")), CaRequest.FINALIZE,
                Optional.of(order), ORDER);
        assertThat(e).isInstanceOf(CaRejectedException.class);
        assertThat(((CaRejectedException) e).blame().namesNobody()).isTrue();
        assertThat(e.url()).hasValue(order);
    }

    @Test
    void finalizeCaaRecheckBlamesTheName() throws Exception {
        CaException e = mapper.map(new AcmeServerException(problem("finalize-caa-one")), CaRequest.FINALIZE,
                Optional.empty(), ORDER);
        assertThat(((CaRejectedException) e).blame().names()).containsExactly("b.example.org");
    }

    @Test
    void rateLimitCarriesRetryAfterScopeAndBlame() throws Exception {
        Instant retry = NOW.plusSeconds(3600);
        CaException e = mapper.map(new AcmeRateLimitedException(problem("ratelimit-failed-authz"), retry, List.of()),
                CaRequest.NEW_ORDER, Optional.empty(), ORDER);
        CaRateLimitedException rl = (CaRateLimitedException) e;
        assertThat(rl.retryAfter()).hasValue(retry);
        assertThat(rl.paused()).isFalse();
        assertThat(rl.scope()).contains("too many failed authorizations (5)");
        assertThat(rl.blame().names()).containsExactly("flaky.example.net");
        assertThat(rl.limit()).hasValue(io.certfleet.model.CaLimit.FAILED_AUTHORIZATIONS);
        assertThat(rl.limitSubject()).hasValue("flaky.example.net");
    }

    @Test
    void aRateLimitWithoutRetryAfterHeaderTakesTheTimeFromTheDetail() throws Exception {
        CaException e = mapper.map(new AcmeRateLimitedException(problem("ratelimit-exact-set"), null, List.of()),
                CaRequest.NEW_ORDER, Optional.empty(), ORDER);
        CaRateLimitedException rl = (CaRateLimitedException) e;
        assertThat(rl.retryAfter()).hasValue(Instant.parse("2026-08-30T10:00:00Z"));
        assertThat(rl.limit()).hasValue(io.certfleet.model.CaLimit.EXACT_SET);
        assertThat(rl.blame().namesNobody()).isTrue();
    }

    @Test
    void pausedIsRateLimitedWithoutRetryAfterButWithUnpauseUrl() throws Exception {
        CaException e = mapper.map(new AcmeRateLimitedException(problem("paused"), null, List.of()),
                CaRequest.NEW_ORDER, Optional.empty(), ORDER);
        CaRateLimitedException rl = (CaRateLimitedException) e;
        assertThat(rl.paused()).isTrue();
        assertThat(rl.retryAfter()).isEmpty();
        assertThat(rl.unpauseUrl()).hasValueSatisfying(u -> assertThat(u.getHost()).isEqualTo("portal.letsencrypt.org"));
        assertThat(rl.blame().names()).containsExactly("p1.example.com");
        assertThat(rl.getMessage()).doesNotContain("eyJzdWIiOi");
    }

    @Test
    void serverInternalIsUnavailable() throws Exception {
        CaException e = mapper.map(new AcmeServerException(problem("server-internal")), CaRequest.NEW_ORDER,
                Optional.empty(), ORDER);
        assertThat(e).isInstanceOf(CaUnavailableException.class);
        assertThat(e.problem().map(CaProblem::shortType)).hasValue("serverInternal");
    }

    @Test
    void nonProblemHttpErrorIsUnavailable() {
        CaException e = mapper.map(new AcmeException("HTTP 503"), CaRequest.FETCH_ORDER, Optional.empty(),
                List.of());
        assertThat(e).isInstanceOf(CaUnavailableException.class);
        assertThat(((CaUnavailableException) e).httpStatus()).isEqualTo(503);
    }

    @Test
    void networkFailureIsUnavailable() {
        CaException e = mapper.map(new AcmeNetworkException(new java.net.ConnectException("Connection refused")),
                CaRequest.FETCH_ORDER, Optional.empty(), List.of());
        assertThat(e).isInstanceOf(CaUnavailableException.class);
        assertThat(e.getMessage()).contains("Connection refused");
    }

    @Test
    void orderNotReadyIsNeitherARejectionNorTransient() throws Exception {
        CaException e = mapper.map(new AcmeServerException(problem("order-not-ready")), CaRequest.FINALIZE,
                Optional.empty(), ORDER);
        assertThat(e.getClass()).isEqualTo(CaException.class);
    }

    @Test
    void retryAfterHeaderInSecondsAndHttpDate() {
        assertThat(mapper.parseRetryAfter("60")).hasValue(NOW.plusSeconds(60));
        assertThat(mapper.parseRetryAfter("Sun, 30 Aug 2026 09:00:00 GMT"))
                .hasValue(Instant.parse("2026-08-30T09:00:00Z"));
        assertThat(mapper.parseRetryAfter("soon")).isEmpty();
    }
}
