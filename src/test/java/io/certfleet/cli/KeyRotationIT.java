package io.certfleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.app.Certfleet;
import io.certfleet.app.Daemon;
import io.certfleet.config.SettingsLoader;
import io.certfleet.model.CaEnvironment;
import io.certfleet.store.AccountStore;
import io.certfleet.store.BatchStore;
import io.certfleet.store.CertificateStore;
import io.certfleet.store.KeyRotation;
import io.certfleet.store.SecretBox;
import io.certfleet.store.SecretKeys;
import io.certfleet.testsupport.ChildJvm;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 5 / scenario 8: {@code certfleet keys rotate} on a real PostgreSQL. Every secret (an ACME account key, a
 * certificate key stored on its batch and on its certificate) decrypts with the new key and not with the old one
 * afterwards; a daemon started with the old key exits 2 at start and says what to do; a rotation that meets a secret it cannot
 * decrypt changes nothing; a writer still holding the old key can neither slip a secret past the rotation nor
 * store one after it; a running daemon with the old key reports itself not ready.
 */
class KeyRotationIT {
    private static final String DIR = "https://ca.test/dir";
    private static final char[] ACCOUNT_PEM = "-----BEGIN PRIVATE KEY-----\naccount key\n-----END PRIVATE KEY-----\n"
            .toCharArray();
    private static final char[] CERT_PEM = "-----BEGIN PRIVATE KEY-----\ncertificate key\n-----END PRIVATE KEY-----\n"
            .toCharArray();

    private final TestDatabase db = TestDatabase.get();
    private byte[] oldKey;
    private SecretBox oldBox;
    private long batchId;
    private long certificateId;

    @TempDir
    Path tmp;

    @BeforeEach
    void storeOneSecretOfEachKindUnderTheOldKey() throws Exception {
        db.clean();
        oldKey = new byte[32];
        new SecureRandom().nextBytes(oldKey);
        oldBox = new SecretBox(oldKey);
        SecretKeys.verifyAgainst(db.store, oldBox); // as every start does: records the key's fingerprint
        new AccountStore(db.store, oldBox).save(CaEnvironment.PRODUCTION, DIR, "https://ca.test/acct/1", ACCOUNT_PEM);
        batchId = newBatch();
        new BatchStore(db.store).storeCertificateKey(batchId,
                new CertificateStore(db.store, oldBox).encryptKey(batchId, CERT_PEM), "EC_P256");
        certificateId = certificateOf(batchId, "01");
    }

    private Map<String, String> withKey(byte[] key) {
        Map<String, String> o = new HashMap<>(db.overrides());
        o.put("secrets.key", Base64.getEncoder().encodeToString(key));
        return o;
    }

    private Map<String, String> withKeyFile(Path file) {
        Map<String, String> o = new HashMap<>(db.overrides());
        o.put("secrets.key-file", file.toString());
        return o;
    }

    private Path generateKeyFile() throws Exception {
        Path file = tmp.resolve("new-" + System.nanoTime() + ".key");
        Cli.Result r = Cli.run(db.overrides(), null, "keys", "generate", "--out", file.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains(file.toAbsolutePath().toString(), "0600");
        return file;
    }

    @Test
    void rotationReencryptsEverySecretAndTheOldKeyNoLongerOpensTheDatabase() throws Exception {
        Path newKeyFile = generateKeyFile();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(newKeyFile))).isEqualTo("rw-------");
        SecretBox newBox = SecretKeys.readKeyFile(newKeyFile, "test");

        Cli.Result r = Cli.run(withKey(oldKey), null, "keys", "rotate", "--new-key-file", newKeyFile.toString(),
                "--format", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertThat(report.get("accounts").asInt()).isEqualTo(1);
        assertThat(report.get("pending_certificate_keys").asInt()).isEqualTo(1);
        assertThat(report.get("certificates").asInt()).isEqualTo(1);
        assertThat(report.get("old_fingerprint").asText()).isEqualTo(oldBox.fingerprint());
        assertThat(report.get("new_fingerprint").asText()).isEqualTo(newBox.fingerprint());
        assertThat(r.out() + r.err()).doesNotContain(Base64.getEncoder().encodeToString(oldKey))
                .doesNotContain(Files.readString(newKeyFile).strip()).doesNotContain("PRIVATE KEY");

        // the new key opens every secret ...
        assertThat(new AccountStore(db.store, newBox).find(CaEnvironment.PRODUCTION, DIR))
                .hasValueSatisfying(a -> assertThat(a.keyPem()).isEqualTo(ACCOUNT_PEM));
        assertThat(new CertificateStore(db.store, newBox).privateKey(certificateId)).isEqualTo(CERT_PEM);
        assertThat(new CertificateStore(db.store, newBox).decryptKey(batchId, batchCiphertext(batchId))).isEqualTo(CERT_PEM);
        // ... and the old one none
        assertThatThrownBy(() -> new AccountStore(db.store, oldBox).find(CaEnvironment.PRODUCTION, DIR))
                .isInstanceOf(SecretBox.WrongKeyException.class);
        assertThatThrownBy(() -> new CertificateStore(db.store, oldBox).privateKey(certificateId))
                .isInstanceOf(SecretBox.WrongKeyException.class);
        assertThatThrownBy(() -> new CertificateStore(db.store, oldBox).decryptKey(batchId, batchCiphertext(batchId)))
                .isInstanceOf(SecretBox.WrongKeyException.class);
        assertThat(query("SELECT fingerprint FROM secret_key_check")).isEqualTo(newBox.fingerprint());
        assertThat(query("SELECT old_fingerprint || ' ' || new_fingerprint || ' ' || accounts || '/'"
                + " || pending_certificate_keys || '/' || certificates FROM secret_key_rotation"))
                .isEqualTo(oldBox.fingerprint() + " " + newBox.fingerprint() + " 1/1/1");

        // a daemon started with the old key (the real launcher, the key in the environment as under systemd) fails
        // at start, naming the setting and what to do
        ChildJvm.Result stale = ChildJvm.of(Map.of("CERTFLEET_SECRETS_KEY", Base64.getEncoder().encodeToString(oldKey)))
                .overrides(db.overrides()).args("daemon").run(Duration.ofSeconds(60));
        assertThat(stale.exitCode()).as(stale.err()).isEqualTo(2);
        assertThat(stale.err()).contains("configuration error: secrets.key:", "was replaced by 'certfleet keys rotate'",
                "Set secrets.key (CERTFLEET_SECRETS_KEY) on this node to the new key").doesNotContain("\tat ");
        assertThat(stale.err()).as("nothing started").doesNotContain("responder listening", "daemon: ready");
        // with the new key file it starts, and every secret decrypts
        Cli.Result verified = Cli.run(withKeyFile(newKeyFile), null, "keys", "verify", "--format", "json");
        assertThat(verified.exitCode()).as(verified.err()).isZero();
        JsonNode v = new ObjectMapper().readTree(verified.out());
        assertThat(v.get("accounts").asInt() + v.get("pending_certificate_keys").asInt() + v.get("certificates").asInt())
                .isEqualTo(3);
        assertThat(v.get("failed").asInt()).isZero();

        // rotating again to the same key is refused and changes nothing
        Cli.Result again = Cli.run(withKeyFile(newKeyFile), null, "keys", "rotate", "--new-key-file", newKeyFile.toString());
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("the new key is the current key");
    }

    @Test
    void aSecretThatDoesNotDecryptAbortsTheRotationAndChangesNothing() throws Exception {
        // certificates are re-encrypted last: by the time this one fails, the account and batch rows were updated
        long broken = certificateOf(batchId, "02");
        try (Connection c = db.database.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE certificate SET key_ciphertext = ? WHERE id = ?")) {
            ps.setBytes(1, new CertificateStore(db.store, oldBox).encryptKey(batchId + 1000, CERT_PEM)); // wrong context
            ps.setLong(2, broken);
            ps.executeUpdate();
        }
        String before = snapshot();
        Path newKeyFile = generateKeyFile();

        Cli.Result r = Cli.run(withKey(oldKey), null, "keys", "rotate", "--new-key-file", newKeyFile.toString());
        assertThat(r.exitCode()).as(r.out()).isEqualTo(1);
        assertThat(r.err()).contains("certfleet keys rotate: the rotation was rolled back, nothing changed: the key"
                + " of certificate " + broken + " does not decrypt with the current key: encrypted secret for"
                + " certificate-key:" + batchId + " does not decrypt");
        assertThat(snapshot()).isEqualTo(before);
        assertThat(new AccountStore(db.store, oldBox).find(CaEnvironment.PRODUCTION, DIR)).isPresent();

        Cli.Result verify = Cli.run(withKey(oldKey), null, "keys", "verify");
        assertThat(verify.exitCode()).isEqualTo(1);
        assertThat(verify.err()).contains("the key of certificate " + broken);
        assertThat(verify.out()).containsPattern("do not decrypt +1");
    }

    /** A writer that passed the fence with the old key holds the rotation up; its secret is then re-encrypted too. */
    @Test
    void aWriterHoldingTheOldKeyCanNeitherSlipPastTheRotationNorWriteAfterIt() throws Exception {
        SecretBox newBox = new SecretBox(randomKey());
        long second = newBatch();
        byte[] oldCiphertext = new CertificateStore(db.store, oldBox).encryptKey(second, CERT_PEM);
        CompletableFuture<KeyRotation.Report> rotation;
        try (Connection writer = db.database.dataSource().getConnection()) {
            writer.setAutoCommit(false);
            try (Statement s = writer.createStatement()) {
                s.executeQuery("SELECT fingerprint FROM secret_key_check WHERE key_id = 'default' FOR SHARE").close();
            }
            rotation = CompletableFuture.supplyAsync(
                    () -> KeyRotation.rotate(db.store, oldBox, newBox, Duration.ofSeconds(20)));
            awaitRotationWaitingForALock();
            // the rotation waits on the fence, not yet on the tables: the writer's write goes through at once
            // (were it the other way round, this write would wait and land, under the old key, after the rotation)
            try (Statement s = writer.createStatement()) {
                s.execute("SET LOCAL lock_timeout = '5s'");
            }
            try (PreparedStatement ps = writer.prepareStatement("UPDATE batch SET cert_key_ciphertext = ? WHERE id = ?")) {
                ps.setBytes(1, oldCiphertext);
                ps.setLong(2, second);
                ps.executeUpdate();
            }
            assertThat(rotation).as("the rotation waits for the writer").isNotDone();
            writer.commit();
        }
        KeyRotation.Report report = rotation.get(20, TimeUnit.SECONDS);
        assertThat(report.pendingCertificateKeys()).isEqualTo(2);
        assertThat(new CertificateStore(db.store, newBox).decryptKey(second, batchCiphertext(second))).isEqualTo(CERT_PEM);

        // after the rotation, a process still holding the old key cannot store a secret nobody could open later
        long third = newBatch();
        assertThatThrownBy(() -> new BatchStore(db.store).storeCertificateKey(third,
                new CertificateStore(db.store, oldBox).encryptKey(third, CERT_PEM), "EC_P256"))
                .isInstanceOf(SecretBox.WrongKeyException.class).hasMessageContaining("batch " + third)
                .hasMessageContaining("keys rotate");
        assertThatThrownBy(() -> new AccountStore(db.store, oldBox)
                .save(CaEnvironment.STAGING, DIR, "https://ca.test/acct/2", ACCOUNT_PEM))
                .isInstanceOf(SecretBox.WrongKeyException.class);
        assertThat(query("SELECT count(*) FROM acme_account")).isEqualTo("1");
        assertThat(batchCiphertext(third)).isNull();
    }

    @Test
    void aRotationThatCannotGetItsLocksInTimeChangesNothing() throws Exception {
        String before = snapshot();
        try (Connection writer = db.database.dataSource().getConnection()) {
            writer.setAutoCommit(false);
            try (Statement s = writer.createStatement()) {
                s.executeUpdate("UPDATE batch SET updated_at = updated_at WHERE id = " + batchId); // a running step
            }
            assertThatThrownBy(() -> KeyRotation.rotate(db.store, oldBox, new SecretBox(randomKey()),
                    Duration.ofMillis(200)))
                    .isInstanceOf(KeyRotation.RotationException.class).hasMessageContaining("nothing changed")
                    .hasMessageContaining("lock timeout");
            writer.rollback();
        }
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void aRunningDaemonWhoseKeyWasReplacedReportsItselfNotReady() throws Exception {
        int opsPort = TestDatabase.freePort();
        Map<String, String> o = withKey(oldKey);
        o.put("ops.port", Integer.toString(opsPort));
        o.put("http01.bind", "127.0.0.1");
        o.put("http01.port", Integer.toString(TestDatabase.freePort()));
        o.put("acme.staging.directory", "https://127.0.0.1:1/dir"); // no CA: the daemon only has to stand
        o.put("acme.production.directory", "https://127.0.0.1:1/dir");
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest readyz = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + "/readyz")).build();
        try (Certfleet app = Certfleet.open(SettingsLoader.load(Optional.empty(), Map.of(), o))) {
            new Daemon(app, Clock.systemUTC()).start();
            assertThat(http.send(readyz, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

            KeyRotation.rotate(db.store, oldBox, new SecretBox(randomKey()), Duration.ofSeconds(10));

            HttpResponse<String> after = http.send(readyz, HttpResponse.BodyHandlers.ofString());
            assertThat(after.statusCode()).isEqualTo(503);
            assertThat(after.body()).contains("secrets key not ready");
        }
    }

    private void awaitRotationWaitingForALock() throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                + " AND query LIKE '%secret_key_check%FOR UPDATE%'").equals("1")) {
            assertThat(System.nanoTime()).as("the rotation never waited for the writer's lock").isLessThan(until);
            Thread.sleep(20);
        }
    }

    private static byte[] randomKey() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return k;
    }

    private long newBatch() throws Exception {
        return Long.parseLong(query("INSERT INTO batch (environment, state) VALUES ('production', 'finalizing') RETURNING id"));
    }

    private long certificateOf(long batch, String serial) throws Exception {
        return Long.parseLong(query("INSERT INTO certificate (environment, batch_id, names, serial, not_before, not_after,"
                + " chain_pem, key_algorithm, key_ciphertext) SELECT 'production', id, ARRAY['a.rotation.example'], '"
                + serial + "', now(), now() + interval '90 days', 'chain', cert_key_algorithm, cert_key_ciphertext"
                + " FROM batch WHERE id = " + batch + " RETURNING id"));
    }

    private byte[] batchCiphertext(long batch) throws Exception {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT cert_key_ciphertext FROM batch WHERE id = " + batch)) {
            rs.next();
            return rs.getBytes(1);
        }
    }

    /** Every stored ciphertext, the recorded fingerprint and the rotation log: what a failed rotation must not change. */
    private String snapshot() throws Exception {
        return query("SELECT concat_ws(' | ',"
                + " (SELECT string_agg(id || ':' || encode(key_ciphertext, 'hex'), ',' ORDER BY id) FROM acme_account),"
                + " (SELECT string_agg(id || ':' || encode(cert_key_ciphertext, 'hex'), ',' ORDER BY id) FROM batch),"
                + " (SELECT string_agg(id || ':' || encode(key_ciphertext, 'hex'), ',' ORDER BY id) FROM certificate),"
                + " (SELECT string_agg(fingerprint, ',') FROM secret_key_check),"
                + " (SELECT count(*) FROM secret_key_rotation))");
    }

    private String query(String sql) throws Exception {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
