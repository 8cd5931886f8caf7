package io.certfleet.store;

import io.certfleet.config.ConfigException;
import io.certfleet.model.CaEnvironment;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SecretsAtRestIT {
    private final TestDatabase db = TestDatabase.get();
    private SecretBox box;

    @BeforeEach
    void setUp() {
        db.clean();
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        box = new SecretBox(k);
    }

    private static char[] realPrivateKeyPem() throws Exception {
        var g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        byte[] der = g.generateKeyPair().getPrivate().getEncoded();
        return ("-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END PRIVATE KEY-----\n").toCharArray();
    }

    @Test
    void accountKeysRoundTripAndAreNotInAPgDump() throws Exception {
        var accounts = new AccountStore(db.store, box);
        char[] pem = realPrivateKeyPem();
        String base64Body = new String(pem).lines().skip(1).findFirst().orElseThrow();
        accounts.save(CaEnvironment.STAGING, "https://staging.test/dir", "https://staging.test/acct/1", pem);

        assertThat(accounts.find(CaEnvironment.STAGING, "https://staging.test/dir")).hasValueSatisfying(a -> {
            assertThat(a.keyPem()).isEqualTo(pem);
            assertThat(a.accountUrl()).isEqualTo("https://staging.test/acct/1");
            assertThat(a.toString()).doesNotContain("PRIVATE");
        });
        assertThat(accounts.find(CaEnvironment.PRODUCTION, "https://staging.test/dir")).isEmpty();

        String dump = pgDump();
        assertThat(dump).contains("https://staging.test/acct/1"); // the dump really holds the account row
        assertThat(dump).doesNotContain("PRIVATE KEY").doesNotContain(base64Body);
    }

    @Test
    void aWrongSecretsKeyFailsLoudlyAtStart() {
        SecretKeys.verifyAgainst(db.store, box);
        SecretKeys.verifyAgainst(db.store, box); // same key: fine
        byte[] other = new byte[32];
        new SecureRandom().nextBytes(other);
        assertThatThrownBy(() -> SecretKeys.verifyAgainst(db.store, new SecretBox(other)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("not the key");
    }

    private String pgDump() throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("pg_dump", "-h", "127.0.0.1", "-p", Integer.toString(db.port), "-U", "postgres",
                "--data-only", "postgres");
        pb.environment().put("PGPASSFILE", db.passwordFile().toString()); // the server requires its password
        Process p = pb.redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("pg_dump failed: %s", text).isZero();
        return text;
    }

    /** Regression: two daemons starting at once on a new database both inserted the fingerprint; one died. */
    @Test
    void nodesStartingAtOnceAgreeOnTheKeyFingerprint() throws Exception {
        int n = 8;
        var ready = new java.util.concurrent.CyclicBarrier(n);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(n);
        try {
            List<java.util.concurrent.Future<?>> all = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                all.add(pool.submit(() -> {
                    ready.await();
                    SecretKeys.verifyAgainst(db.store, box);
                    return null;
                }));
            }
            for (var f : all) {
                f.get(); // none failed
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Regression: two nodes creating the environment's ACME account at once; the second must use the first. */
    @Test
    void theSecondNodeCreatingAnAccountGetsTheStoredOne() {
        var accounts = new AccountStore(db.store, box);
        var first = accounts.saveOrGet(CaEnvironment.STAGING, "https://s.test/dir", "https://s.test/acct/1", "k1".toCharArray());
        var second = accounts.saveOrGet(CaEnvironment.STAGING, "https://s.test/dir", "https://s.test/acct/2", "k2".toCharArray());
        assertThat(second.accountUrl()).isEqualTo(first.accountUrl()).isEqualTo("https://s.test/acct/1");
        assertThat(second.keyPem()).isEqualTo("k1".toCharArray());
    }
}
