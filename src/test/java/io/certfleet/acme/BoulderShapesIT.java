package io.certfleet.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.certfleet.model.Blame;
import io.certfleet.model.CaEnvironment;
import io.certfleet.testsupport.acme.BoulderProxy;
import io.certfleet.testsupport.acme.BoulderProxy.Endpoint;
import io.certfleet.testsupport.acme.ChallengeResponder;
import io.certfleet.testsupport.acme.OrderDriver;
import io.certfleet.testsupport.acme.PebbleEnvironment;
import java.net.URL;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Each Boulder error shape, injected by the BoulderProxy in front of a real Pebble, maps to the right exception. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BoulderShapesIT {

    private ChallengeResponder responder;
    private PebbleEnvironment env;
    private BoulderProxy proxy;
    private CaAccount account;
    private OrderDriver driver;

    @BeforeAll
    void start() throws Exception {
        responder = ChallengeResponder.start();
        env = PebbleEnvironment.start(responder.port());
        proxy = BoulderProxy.start(env.staging(), env.pki());
        AcmeClient client = AcmeClient.create(AcmeSettings.of(CaEnvironment.STAGING, proxy.directory())
                .withTrustedCa(env.caPem()).withTimeout(Duration.ofSeconds(10)).withSessions(2));
        KeyPair key = Keys.generate();
        URL accountUrl = client.registerAccount(key);
        assertThat(accountUrl.toString()).startsWith(proxy.origin());
        account = client.login(accountUrl, key);
        driver = new OrderDriver(account, responder, Duration.ofSeconds(30));
    }

    @AfterAll
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (env != null) {
            env.close();
        }
        if (responder != null) {
            responder.close();
        }
    }

    @BeforeEach
    void reset() {
        proxy.clearRules();
        proxy.resetCounts();
    }

    private OrderState readyOrder(List<String> names) throws Exception {
        OrderState o = account.newOrderForIdentifiers(names);
        driver.publishAndTrigger(o);
        OrderState ready = driver.pollOrder(o.url(), OrderState::readyToFinalize);
        assertThat(ready.status()).isEqualTo(CaStatus.READY);
        return ready;
    }

    @Test
    void passesThroughAndIssuesWithUrlsPointingAtTheProxy() throws Exception {
        OrderState ready = readyOrder(List.of("pass1.certfleet.test", "pass2.certfleet.test"));
        assertThat(ready.url().toString()).startsWith(proxy.origin());
        OrderState fin = account.finalizeOrder(ready.url(), Keys.generate(), ready.identifiers());
        OrderState valid = driver.pollOrder(fin.url(), o -> o.status() == CaStatus.VALID);
        assertThat(account.downloadCertificate(valid.certificate().orElseThrow()).names())
                .containsExactly("pass1.certfleet.test", "pass2.certfleet.test");
        assertThat(proxy.acceptedCount(Endpoint.NEW_ORDER)).isEqualTo(1);
        assertThat(proxy.acceptedCount(Endpoint.FINALIZE)).isEqualTo(1);
    }

    @Test
    void oneRejectedNameAtNewOrderIsBlamedFromTheDetail() {
        proxy.rejectIdentifiersAtNewOrder(Set.of("bad.certfleet.test"));
        assertThatThrownBy(() -> account.newOrderForIdentifiers(List.of("fine.certfleet.test", "bad.certfleet.test")))
                .isInstanceOfSatisfying(CaRejectedException.class, e -> {
                    assertThat(e.request()).isEqualTo(CaRequest.NEW_ORDER);
                    assertThat(e.caProblem().shortType()).isEqualTo("rejectedIdentifier");
                    assertThat(e.caProblem().subproblems()).isEmpty();
                    assertThat(e.blame().names()).containsExactly("bad.certfleet.test");
                    assertThat(e.blame().basis()).isEqualTo(Blame.Basis.DETAIL_TEXT);
                });
        assertThat(proxy.injectedCount(Endpoint.NEW_ORDER)).isEqualTo(1);
    }

    @Test
    void severalRejectedNamesAreBlamedFromSubproblems() {
        proxy.rejectIdentifiersAtNewOrder(Set.of("bad1.certfleet.test", "bad2.certfleet.test"));
        assertThatThrownBy(() -> account.newOrderForIdentifiers(
                List.of("fine.certfleet.test", "bad1.certfleet.test", "bad2.certfleet.test")))
                .isInstanceOfSatisfying(CaRejectedException.class, e -> {
                    assertThat(e.caProblem().subproblems()).hasSize(2);
                    assertThat(e.blame().names()).containsExactly("bad1.certfleet.test", "bad2.certfleet.test");
                    assertThat(e.blame().basis()).isEqualTo(Blame.Basis.IDENTIFIERS);
                });
    }

    @Test
    void finalizeCaaRecheckOfOneNameIsSynchronousAndBlamesIt() throws Exception {
        OrderState ready = readyOrder(List.of("caa-ok.certfleet.test", "caa-bad.certfleet.test"));
        proxy.failCaaRecheckAtFinalize(Set.of("caa-bad.certfleet.test"));
        assertThatThrownBy(() -> account.finalizeOrder(ready.url(), Keys.generate(), ready.identifiers()))
                .isInstanceOfSatisfying(CaRejectedException.class, e -> {
                    assertThat(e.request()).isEqualTo(CaRequest.FINALIZE);
                    assertThat(e.url()).hasValue(ready.url());
                    assertThat(e.caProblem().detail()).startsWith("Error finalizing order :: ");
                    assertThat(e.blame().names()).containsExactly("caa-bad.certfleet.test");
                });
        assertThat(account.fetchOrder(ready.url()).status()).isEqualTo(CaStatus.READY);
    }

    @Test
    void finalizeCaaRecheckOfSeveralNamesBlamesThemAll() throws Exception {
        OrderState ready = readyOrder(List.of("c1.certfleet.test", "c2.certfleet.test", "c3.certfleet.test"));
        proxy.failCaaRecheckAtFinalize(Set.of("c1.certfleet.test", "c3.certfleet.test"));
        assertThatThrownBy(() -> account.finalizeOrder(ready.url(), Keys.generate(), ready.identifiers()))
                .isInstanceOfSatisfying(CaRejectedException.class, e -> {
                    assertThat(e.caProblem().subproblems()).hasSize(2);
                    assertThat(e.blame().names()).containsExactly("c1.certfleet.test", "c3.certfleet.test");
                });
    }

    @Test
    void asynchronousFinalizeFailureShowsUpAsTheOrdersErrorWithBlame() throws Exception {
        OrderState ready = readyOrder(List.of("a1.certfleet.test", "a2.certfleet.test", "a3.certfleet.test"));
        proxy.failCaaRecheckAfterFinalize(Set.of("a2.certfleet.test", "a3.certfleet.test"));
        OrderState after = account.finalizeOrder(ready.url(), Keys.generate(), ready.identifiers());
        OrderState failed = driver.pollOrder(after.url(), OrderState::failed);
        assertThat(failed.status()).isEqualTo(CaStatus.INVALID);
        assertThat(failed.certificate()).isEmpty();
        assertThat(failed.error()).hasValueSatisfying(p -> {
            assertThat(p.shortType()).isEqualTo("caa");
            assertThat(ProblemAttribution.attribute(p, failed.identifiers()).names())
                    .containsExactly("a2.certfleet.test", "a3.certfleet.test");
        });
    }

    @Test
    void finalizeFailureNamingNobodyMeansBisect() throws Exception {
        OrderState ready = readyOrder(List.of("n1.certfleet.test", "n2.certfleet.test"));
        proxy.failFinalizeNamingNobody(Set.of("n2.certfleet.test"));
        assertThatThrownBy(() -> account.finalizeOrder(ready.url(), Keys.generate(), ready.identifiers()))
                .isInstanceOfSatisfying(CaRejectedException.class, e -> assertThat(e.blame().namesNobody()).isTrue());
    }

    @Test
    void rateLimitCarriesRetryAfterAndTheName() {
        proxy.rateLimitAtNewOrder(Set.of("limited.certfleet.test"), Duration.ofSeconds(1800));
        Instant before = Instant.now();
        assertThatThrownBy(() -> account.newOrderForIdentifiers(List.of("limited.certfleet.test")))
                .isInstanceOfSatisfying(CaRateLimitedException.class, e -> {
                    assertThat(e.paused()).isFalse();
                    assertThat(e.retryAfter()).hasValueSatisfying(t ->
                            assertThat(t).isCloseTo(before.plusSeconds(1800), within(30, ChronoUnit.SECONDS)));
                    assertThat(e.blame().names()).containsExactly("limited.certfleet.test");
                    assertThat(e.scope()).contains("too many failed authorizations (5)");
                });
    }

    @Test
    void pausedHasNoRetryAfterButAnUnpauseUrl() {
        proxy.pauseAtNewOrder(Set.of("paused.certfleet.test"));
        assertThatThrownBy(() -> account.newOrderForIdentifiers(List.of("x.certfleet.test", "paused.certfleet.test")))
                .isInstanceOfSatisfying(CaRateLimitedException.class, e -> {
                    assertThat(e.paused()).isTrue();
                    assertThat(e.retryAfter()).isEmpty();
                    assertThat(e.unpauseUrl()).hasValueSatisfying(u -> assertThat(u.getPath())
                            .isEqualTo("/sfe/v1/unpause"));
                    assertThat(e.blame().names()).containsExactly("paused.certfleet.test");
                });
    }

    @Test
    void nonJson503IsUnavailableWithItsRetryAfter() {
        proxy.unavailable(Endpoint.NEW_ORDER, 1, Duration.ofSeconds(5));
        Instant before = Instant.now();
        assertThatThrownBy(() -> account.newOrderForIdentifiers(List.of("lb.certfleet.test")))
                .isInstanceOfSatisfying(CaUnavailableException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(503);
                    assertThat(e.problem()).isEmpty();
                    assertThat(e.retryAfter()).hasValueSatisfying(t ->
                            assertThat(t).isCloseTo(before.plusSeconds(5), within(10, ChronoUnit.SECONDS)));
                });
    }

    @Test
    void serverInternalIsUnavailableWithRetryAfter60() {
        proxy.serverInternal(Endpoint.NEW_ORDER, 1);
        Instant before = Instant.now();
        assertThatThrownBy(() -> account.newOrderForIdentifiers(List.of("si.certfleet.test")))
                .isInstanceOfSatisfying(CaUnavailableException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(500);
                    assertThat(e.problem()).hasValueSatisfying(p -> assertThat(p.shortType())
                            .isEqualTo("serverInternal"));
                    assertThat(e.retryAfter()).hasValueSatisfying(t ->
                            assertThat(t).isCloseTo(before.plusSeconds(60), within(10, ChronoUnit.SECONDS)));
                });
    }

    @Test
    void unavailableOrderFetchIsTheCasFaultNotTheNames() throws Exception {
        OrderState o = account.newOrderForIdentifiers(List.of("poll.certfleet.test"));
        proxy.unavailable(Endpoint.ORDER, 1, Duration.ofSeconds(3));
        assertThatThrownBy(() -> account.fetchOrder(o.url())).isInstanceOf(CaUnavailableException.class);
        assertThat(account.fetchOrder(o.url()).status()).isEqualTo(CaStatus.PENDING);
    }

    @Test
    void renewalInfoIsAdvertisedWhenServed() throws Exception {
        proxy.serveRenewalInfo(Instant.now().plus(Duration.ofDays(30)), Instant.now().plus(Duration.ofDays(32)));
        AcmeClient fresh = AcmeClient.create(AcmeSettings.of(CaEnvironment.STAGING, proxy.directory())
                .withTrustedCa(env.caPem()).withSessions(1));
        assertThat(fresh.directory().renewalInfo()).isTrue();
    }
}
