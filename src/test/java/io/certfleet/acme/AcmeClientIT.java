package io.certfleet.acme;

import static org.assertj.core.api.Assertions.assertThat;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainName;
import io.certfleet.testsupport.acme.ChallengeResponder;
import io.certfleet.testsupport.acme.OrderDriver;
import io.certfleet.testsupport.acme.PebbleEnvironment;
import java.io.ByteArrayInputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The facade against two real Pebble 2.4.0 instances and challtestsrv on loopback. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AcmeClientIT {

    private ChallengeResponder responder;
    private PebbleEnvironment env;
    private AcmeClient staging;
    private KeyPair accountKey;
    private URL accountUrl;

    @BeforeAll
    void start() throws Exception {
        responder = ChallengeResponder.start();
        env = PebbleEnvironment.start(responder.port());
        staging = client(env.stagingDirectory(), CaEnvironment.STAGING);
        accountKey = Keys.generate();
        accountUrl = staging.registerAccount(accountKey);
    }

    @AfterAll
    void stop() {
        if (env != null) {
            env.close();
        }
        if (responder != null) {
            responder.close();
        }
    }

    private AcmeClient client(java.net.URI dir, CaEnvironment e) {
        return AcmeClient.create(AcmeSettings.of(e, dir).withTrustedCa(env.caPem()).withTimeout(Duration.ofSeconds(10)));
    }

    private static List<DomainName> names(String prefix, int n) throws Exception {
        List<DomainName> out = new ArrayList<>();
        for (int i : IntStream.range(0, n).toArray()) {
            out.add(DomainName.parse(prefix + i + ".certfleet.test"));
        }
        return out;
    }

    @Test
    void directoryHasNoCaaIdentitiesProfilesOrAriInPebble240() throws Exception {
        CaDirectory d = staging.directory();
        assertThat(d.renewalInfo()).isFalse();
        assertThat(d.profiles()).isEmpty();
        assertThat(d.termsOfService()).isPresent();
    }

    /** acme.contact reaches the CA: the new account is stored with it (Pebble answers it back on a fetch). */
    @Test
    void theContactGivenAtRegistrationIsStoredByTheCa() throws Exception {
        KeyPair key = Keys.generate();
        java.net.URI contact = java.net.URI.create("mailto:certs@certfleet.example.org");
        CaAccount account = staging.login(staging.registerAccount(key, List.of(contact)), key);
        assertThat(account.contacts()).containsExactly(contact);
        // the account registered without a contact has none
        assertThat(staging.login(accountUrl, accountKey).contacts()).isEmpty();
    }

    @Test
    void issuesAFiveNameCertificateStepByStep() throws Exception {
        CaAccount account = staging.login(accountUrl, accountKey);
        List<DomainName> names = names("ok", 5);
        OrderState order = account.newOrder(names);
        assertThat(order.status()).isEqualTo(CaStatus.PENDING);
        assertThat(order.authorizations()).hasSize(5);
        assertThat(order.identifiers()).containsExactlyInAnyOrderElementsOf(
                names.stream().map(DomainName::identifier).toList());

        OrderDriver driver = new OrderDriver(account, responder, Duration.ofSeconds(30));
        driver.publishAndTrigger(order);
        OrderState ready = driver.pollOrder(order.url(), OrderState::readyToFinalize);
        assertThat(ready.status()).isEqualTo(CaStatus.READY);

        KeyPair certKey = Keys.generate();
        OrderState finalized = account.finalizeOrder(order.url(), certKey, ready.identifiers());
        OrderState valid = driver.pollOrder(finalized.url(), o -> o.status() == CaStatus.VALID);
        assertThat(valid.certificate()).isPresent();

        IssuedCertificate cert = account.downloadCertificate(valid.certificate().orElseThrow());
        assertThat(cert.names()).containsExactlyElementsOf(ready.identifiers());
        List<X509Certificate> chain = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509").generateCertificates(
                new ByteArrayInputStream(cert.chainPem().getBytes(StandardCharsets.US_ASCII)))) {
            chain.add((X509Certificate) c);
        }
        assertThat(chain).hasSizeGreaterThanOrEqualTo(2);
        chain.get(0).verify(chain.get(1).getPublicKey());
        assertThat(chain.get(0).getPublicKey()).isEqualTo(certKey.getPublic());
        assertThat(cert.serialHex()).isEqualTo(chain.get(0).getSerialNumber().toString(16));
        assertThat(cert.notAfter()).isAfter(cert.notBefore());
    }

    @Test
    void servfailOnANamesAddressInvalidatesItsAuthorizationWithTheChallengeError() throws Exception {
        CaAccount account = staging.login(accountUrl, accountKey);
        List<DomainName> names = names("sf", 3);
        String broken = names.get(1).identifier();
        env.setServfail(broken);
        try {
            OrderState order = account.newOrder(names);
            OrderDriver driver = new OrderDriver(account, responder, Duration.ofSeconds(30));
            driver.publishAndTrigger(order);
            AuthorizationState bad = null;
            for (URL authz : order.authorizations()) {
                AuthorizationState a = driver.pollAuthorization(authz);
                if (a.status() == CaStatus.INVALID) {
                    assertThat(bad).isNull();
                    bad = a;
                }
            }
            assertThat(bad).isNotNull();
            assertThat(bad.identifier()).isEqualTo(broken);
            assertThat(bad.error()).hasValueSatisfying(p -> {
                assertThat(p.type()).startsWith("urn:ietf:params:acme:error:");
                assertThat(p.detail()).isNotBlank();
            });
            OrderState invalid = driver.pollOrder(order.url(), OrderState::failed);
            assertThat(invalid.status()).isEqualTo(CaStatus.INVALID);
        } finally {
            env.clearServfail(broken);
        }
    }

    @Test
    void withheldTokenFailsValidation() throws Exception {
        CaAccount account = staging.login(accountUrl, accountKey);
        OrderState order = account.newOrder(names("withheld", 1));
        AuthorizationState a = account.fetchAuthorization(order.authorizations().get(0));
        account.triggerChallenge(a.http01().orElseThrow().url()); // nothing published
        AuthorizationState done = new OrderDriver(account, responder, Duration.ofSeconds(30))
                .pollAuthorization(a.url());
        assertThat(done.status()).isEqualTo(CaStatus.INVALID);
        assertThat(done.error()).hasValueSatisfying(p -> assertThat(p.shortType()).isEqualTo("unauthorized"));
    }

    @Test
    void anOrderIsReboundFromItsUrlAfterARestart() throws Exception {
        OrderState order = staging.login(accountUrl, accountKey).newOrder(names("restart", 2));
        URL storedOrder = order.url();
        String storedKeyPem = Keys.toPem(accountKey);

        // "restart": a new client and login from the persisted account URL and key PEM
        AcmeClient fresh = client(env.stagingDirectory(), CaEnvironment.STAGING);
        CaAccount account = fresh.login(accountUrl, Keys.fromPem(storedKeyPem));
        OrderState reread = account.fetchOrder(storedOrder);
        assertThat(reread.status()).isEqualTo(CaStatus.PENDING);
        assertThat(reread.authorizations()).containsExactlyInAnyOrderElementsOf(order.authorizations());

        OrderDriver driver = new OrderDriver(account, responder, Duration.ofSeconds(30));
        driver.publishAndTrigger(reread);
        OrderState ready = driver.pollOrder(storedOrder, OrderState::readyToFinalize);
        account.finalizeOrder(storedOrder, Keys.generate(Keys.Type.RSA_2048), ready.identifiers());
        OrderState valid = driver.pollOrder(storedOrder, o -> o.status() == CaStatus.VALID);
        assertThat(valid.status()).isEqualTo(CaStatus.VALID);
    }

    /** Rehearse 100 names on staging, then promote the same set to production; prints timings per phase. */
    @Test
    void hundredNamesOnStagingThenProduction() throws Exception {
        List<DomainName> names = names("hundred", 100);
        for (var e : List.of(CaEnvironment.STAGING, CaEnvironment.PRODUCTION)) {
            AcmeClient client = client(e == CaEnvironment.STAGING ? env.stagingDirectory()
                    : env.productionDirectory(), e);
            KeyPair key = Keys.generate();
            CaAccount account = client.login(client.registerAccount(key), key);
            long t0 = System.nanoTime();
            OrderState order = account.newOrder(names);
            long t1 = System.nanoTime();
            var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
                for (URL authz : order.authorizations()) {
                    fs.add(pool.submit(() -> {
                        AuthorizationState a = account.fetchAuthorization(authz);
                        if (a.status() == CaStatus.PENDING) {
                            Http01Proof p = a.http01().orElseThrow();
                            responder.publish(p.token(), p.content());
                            account.triggerChallenge(p.url());
                        }
                        return null;
                    }));
                }
                for (var f : fs) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            long t2 = System.nanoTime();
            OrderDriver driver = new OrderDriver(account, responder, Duration.ofSeconds(60));
            OrderState ready = driver.pollOrder(order.url(), OrderState::readyToFinalize);
            assertThat(ready.status()).isEqualTo(CaStatus.READY);
            long t3 = System.nanoTime();
            account.finalizeOrder(order.url(), Keys.generate(), ready.identifiers());
            OrderState valid = driver.pollOrder(order.url(), o -> o.status() == CaStatus.VALID);
            IssuedCertificate cert = account.downloadCertificate(valid.certificate().orElseThrow());
            long t4 = System.nanoTime();
            assertThat(cert.names()).hasSize(100);
            System.out.printf("%s 100-name order: new-order %d ms, fetch+trigger 100 authzs (4 threads) %d ms,"
                    + " until ready %d ms, finalize+download %d ms, total %d ms%n", e, ms(t1 - t0), ms(t2 - t1),
                    ms(t3 - t2), ms(t4 - t3), ms(t4 - t0));
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    @Test
    void unknownOrderUrlIsACaExceptionNamingTheUrl() throws Exception {
        URL missing = new URL(env.stagingDirectory().resolve("/my-order/does-not-exist").toString());
        CaAccount account = staging.login(accountUrl, accountKey);
        try {
            account.fetchOrder(missing);
            org.assertj.core.api.Assertions.fail("expected a CaException");
        } catch (CaException e) {
            assertThat(e.url()).hasValue(missing);
            assertThat(e.request()).isEqualTo(CaRequest.FETCH_ORDER);
        }
    }
}
