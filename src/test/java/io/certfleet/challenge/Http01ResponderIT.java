package io.certfleet.challenge;

import io.certfleet.acme.AcmeClient;
import io.certfleet.acme.AcmeSettings;
import io.certfleet.acme.AuthorizationState;
import io.certfleet.acme.CaAccount;
import io.certfleet.acme.CaStatus;
import io.certfleet.acme.Http01Proof;
import io.certfleet.acme.Keys;
import io.certfleet.acme.OrderState;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainName;
import io.certfleet.model.Http01Token;
import io.certfleet.store.Http01TokenStore;
import io.certfleet.testsupport.TestDatabase;
import io.certfleet.testsupport.acme.PebbleEnvironment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URL;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The responder and publisher on the real embedded PostgreSQL (non-UTC session time zone), two responders as two
 * nodes of a cluster, and one order validated by a real Pebble fetching the proofs from our responder.
 */
class Http01ResponderIT {
    private static final Duration TTL = Duration.ofSeconds(30);

    private final TestDatabase db = TestDatabase.get();
    private final Http01TokenStore tokens = new Http01TokenStore(db.store);
    private final Instant t0 = Instant.now().truncatedTo(ChronoUnit.MICROS);
    private final Http01ResponderTest.TestClock clock = new Http01ResponderTest.TestClock(t0);
    private final List<Http01Responder> started = new ArrayList<>();

    @BeforeEach
    void clean() {
        db.clean();
    }

    @AfterEach
    void stop() {
        started.forEach(Http01Responder::close);
    }

    private Http01Responder node(Duration cacheTtl, Clock nodeClock) throws IOException {
        Http01Responder r = Http01Responder.start(tokens, new Http01Responder.Options(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4, cacheTtl, 100), nodeClock);
        started.add(r);
        return r;
    }

    private static RawHttp.Response fetch(Http01Responder node, String token) throws IOException {
        return RawHttp.get(node.port(), Http01Responder.PREFIX + token);
    }

    private Http01Token token(String token, Instant expires) {
        return new Http01Token(token, token + ".AbC-thumbprint_123", "shop.example.com", CaEnvironment.STAGING,
                Optional.empty(), expires);
    }

    @Test
    void publishedTokenIsServedAndWithdrawnTokenIs404AtOnceDespiteTheCache() throws IOException {
        Http01Responder node = node(TTL, clock);
        ChallengePublisher publisher = new DatabaseHttp01Publisher(tokens, node);
        Http01Token t = token("PublishedToken", t0.plusSeconds(3600));
        assertThat(fetch(node, t.token()).status()).isEqualTo(404);

        publisher.publish(t);
        RawHttp.Response served = fetch(node, t.token());
        assertThat(served.status()).isEqualTo(200);
        assertThat(served.body()).isEqualTo(t.keyAuthorization());
        assertThat(served.header("Content-Type")).isEqualTo("text/plain");
        assertThat(node.cachedTokens()).isEqualTo(1);

        publisher.withdraw(t.token());

        assertThat(fetch(node, t.token()).status()).isEqualTo(404);
        assertThat(tokens.find(t.token(), t0)).isEmpty();
    }

    @Test
    void republishingATokenServesTheNewKeyAuthorizationAtOnce() throws IOException {
        Http01Responder node = node(TTL, clock);
        ChallengePublisher publisher = new DatabaseHttp01Publisher(tokens, node);
        publisher.publish(token("Republished", t0.plusSeconds(3600)));
        assertThat(fetch(node, "Republished").status()).isEqualTo(200);

        Http01Token replaced = new Http01Token("Republished", "Republished.NewThumbprint", "other.example.com",
                CaEnvironment.PRODUCTION, Optional.of("https://ca.test/authz/2"), t0.plusSeconds(7200));
        publisher.publish(replaced);

        assertThat(fetch(node, "Republished").body()).isEqualTo("Republished.NewThumbprint");
    }

    @Test
    void expiredTokenIs404ExactlyAtItsExpiry() throws IOException {
        Http01Responder uncached = node(Duration.ZERO, clock);
        ChallengePublisher publisher = new DatabaseHttp01Publisher(tokens, uncached);
        publisher.publish(token("Expiring", t0.plusSeconds(10)));

        clock.advance(Duration.ofSeconds(10).minusNanos(1000));
        assertThat(fetch(uncached, "Expiring").status()).isEqualTo(200);
        clock.advance(Duration.ofNanos(1000));
        assertThat(fetch(uncached, "Expiring").status()).isEqualTo(404);
    }

    @Test
    void twoNodesOnOneDatabaseBothServeATokenPublishedThroughOne() throws IOException {
        Http01ResponderTest.TestClock clockB = new Http01ResponderTest.TestClock(t0);
        Http01Responder nodeA = node(TTL, clock);
        Http01Responder nodeB = node(TTL, clockB);
        ChallengePublisher publisherA = new DatabaseHttp01Publisher(tokens, nodeA);
        Http01Token t = token("ClusterToken", t0.plusSeconds(3600));

        publisherA.publish(t);

        assertThat(fetch(nodeA, t.token()).body()).isEqualTo(t.keyAuthorization());
        assertThat(fetch(nodeB, t.token()).body()).isEqualTo(t.keyAuthorization());

        publisherA.withdraw(t.token());
        assertThat(fetch(nodeA, t.token()).status()).isEqualTo(404);
        // node B may answer from its cache for the TTL, and no longer
        clockB.advance(TTL);
        assertThat(fetch(nodeB, t.token()).status()).isEqualTo(404);
    }

    /** Pebble validates three names over HTTP-01 against our responder, which reads the proofs from Postgres. */
    @Test
    void pebbleValidatesAThreeNameOrderFromProofsInTheDatabase() throws Exception {
        Http01Responder node = node(TTL, Clock.systemUTC());
        ChallengePublisher publisher = new DatabaseHttp01Publisher(tokens, node);
        try (PebbleEnvironment env = PebbleEnvironment.start(node.port())) {
            AcmeClient staging = AcmeClient.create(AcmeSettings.of(CaEnvironment.STAGING, env.stagingDirectory())
                    .withTrustedCa(env.caPem()).withTimeout(Duration.ofSeconds(10)));
            KeyPair accountKey = Keys.generate();
            CaAccount account = staging.login(staging.registerAccount(accountKey), accountKey);
            List<DomainName> names = List.of(DomainName.parse("e2e-0.certfleet.test"),
                    DomainName.parse("e2e-1.certfleet.test"), DomainName.parse("e2e-2.certfleet.test"));
            OrderState order = account.newOrder(names);
            assertThat(order.authorizations()).hasSize(3);

            List<String> published = new ArrayList<>();
            for (URL authz : order.authorizations()) {
                AuthorizationState a = account.fetchAuthorization(authz);
                assertThat(a.status()).isEqualTo(CaStatus.PENDING);
                Http01Proof proof = a.http01().orElseThrow();
                publisher.publish(new Http01Token(proof.token(), proof.content(), a.identifier(),
                        CaEnvironment.STAGING, Optional.of(authz.toString()),
                        a.expires().orElse(Instant.now().plus(Duration.ofHours(1)))));
                published.add(proof.token());
                account.triggerChallenge(proof.url());
            }

            for (URL authz : order.authorizations()) {
                AuthorizationState done = pollUntilDecided(account, authz, Duration.ofSeconds(30));
                assertThat(done.status()).as(done.identifier() + ": " + done.error()).isEqualTo(CaStatus.VALID);
            }
            OrderState ready = account.fetchOrder(order.url());
            assertThat(ready.status()).isEqualTo(CaStatus.READY);

            publisher.withdrawAll(published);
            for (String token : published) {
                assertThat(fetch(node, token).status()).isEqualTo(404);
            }
        }
    }

    private static AuthorizationState pollUntilDecided(CaAccount account, URL authz, Duration budget)
            throws Exception {
        Instant deadline = Instant.now().plus(budget);
        while (true) {
            AuthorizationState a = account.fetchAuthorization(authz);
            boolean open = a.status() == CaStatus.PENDING || a.status() == CaStatus.PROCESSING;
            if (!open || Instant.now().isAfter(deadline)) {
                return a;
            }
            long waitMs = a.retryAfter().map(t -> Duration.between(Instant.now(), t).toMillis()).orElse(100L);
            Thread.sleep(Math.max(50, Math.min(waitMs, 2000)));
        }
    }
}
