package io.certfleet.store;

import io.certfleet.model.CaEnvironment;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * {@code certfleet keys rotate} and {@code keys verify}: every stored secret — ACME account keys
 * ({@code acme_account}), certificate keys stored before finalize ({@code batch}) and certificate keys
 * ({@code certificate}) — re-encrypted from the current key to a new one in one transaction, or decrypted to prove
 * the key opens them all. See docs/decisions/0003-key-rotation.md.
 *
 * <p>The rotation first locks the recorded fingerprint (every write of a secret takes a share lock on it first,
 * {@link SecretKeys#requireCurrent}), then the three tables against writes, so no secret can be written under
 * the old key while or after it runs; a secret that does not decrypt aborts it and the database is unchanged.
 * Plain keys live only in short-lived arrays that are zeroed after use; nothing here logs a secret.
 */
public final class KeyRotation {
    private static final int UPDATE_BATCH = 500;
    private static final int MAX_LISTED_FAILURES = 20;

    /** The kinds of stored secrets, each with its table, column, query and encryption context. */
    public enum Kind {
        ACCOUNTS("acme_account", "key_ciphertext",
                "SELECT id, key_ciphertext, environment, directory_url FROM acme_account ORDER BY id"),
        PENDING_CERTIFICATE_KEYS("batch", "cert_key_ciphertext",
                "SELECT id, cert_key_ciphertext FROM batch WHERE cert_key_ciphertext IS NOT NULL ORDER BY id"),
        CERTIFICATES("certificate", "key_ciphertext", "SELECT id, key_ciphertext, batch_id FROM certificate ORDER BY id");

        final String table;
        final String column;
        final String select;

        Kind(String table, String column, String select) {
            this.table = table;
            this.column = column;
            this.select = select;
        }

        String context(ResultSet rs) throws SQLException {
            return switch (this) {
                case ACCOUNTS -> AccountStore.context(CaEnvironment.fromWire(rs.getString(3)), rs.getString(4));
                case PENDING_CERTIFICATE_KEYS -> CertificateStore.keyContext(rs.getLong(1));
                case CERTIFICATES -> CertificateStore.keyContext(rs.getLong(3));
            };
        }

        String subject(ResultSet rs) throws SQLException {
            return switch (this) {
                case ACCOUNTS -> "the key of ACME account " + rs.getLong(1) + " (" + rs.getString(3) + ", "
                        + rs.getString(4) + ")";
                case PENDING_CERTIFICATE_KEYS -> "the certificate key of batch " + rs.getLong(1);
                case CERTIFICATES -> "the key of certificate " + rs.getLong(1);
            };
        }
    }

    /** What a rotation did. Fingerprints identify keys without revealing them. */
    public record Report(int accounts, int pendingCertificateKeys, int certificates, String oldFingerprint,
                         String newFingerprint, Instant rotatedAt, Duration took) {
        public int total() {
            return accounts + pendingCertificateKeys + certificates;
        }
    }

    /** What {@link #verify} found: secrets per kind that decrypt, and the ones that do not (first few, described). */
    public record Verification(Map<Kind, Integer> decrypted, int failed, List<String> failures, String fingerprint) {
        public boolean ok() {
            return failed == 0;
        }
    }

    /** A rotation that did not happen; the database is as it was. The message names the secret or lock at fault. */
    public static final class RotationException extends RuntimeException {
        RotationException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private KeyRotation() {
    }

    /**
     * Re-encrypts every secret from {@code current} to {@code next} and records {@code next}'s fingerprint, in
     * one transaction.
     *
     * @param lockTimeout how long to wait for running writers (a rotation holds up writes of those tables while
     *                    it runs)
     * @throws RotationException when the rotation was refused or failed; nothing was changed
     */
    public static Report rotate(Store store, SecretBox current, SecretBox next, Duration lockTimeout) {
        if (current.fingerprint().equals(next.fingerprint())) {
            throw new RotationException("the new key is the current key (fingerprint " + current.fingerprint()
                    + "); generate a new one with 'certfleet keys generate --out FILE'", null);
        }
        long t0 = System.nanoTime();
        try {
            return store.inTransaction(s -> s.doReturningWork(c -> {
                lock(c, current, next, lockTimeout);
                Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
                for (Kind k : Kind.values()) {
                    counts.put(k, reencrypt(c, k, current, next));
                }
                requireAllUnder(c, next);
                Jdbc.update(c, "UPDATE secret_key_check SET fingerprint = ? WHERE key_id = ?", next.fingerprint(),
                        SecretKeys.CHECK_ID);
                Instant at = Jdbc.query(c, """
                        INSERT INTO secret_key_rotation (old_fingerprint, new_fingerprint, accounts,
                                                         pending_certificate_keys, certificates, rotated_by)
                        VALUES (?, ?, ?, ?, ?, ?) RETURNING rotated_at""", rs -> rs.getTimestamp(1).toInstant(),
                        current.fingerprint(), next.fingerprint(), counts.get(Kind.ACCOUNTS),
                        counts.get(Kind.PENDING_CERTIFICATE_KEYS), counts.get(Kind.CERTIFICATES), processName()).get(0);
                return new Report(counts.get(Kind.ACCOUNTS), counts.get(Kind.PENDING_CERTIFICATE_KEYS),
                        counts.get(Kind.CERTIFICATES), current.fingerprint(), next.fingerprint(), at,
                        Duration.ofNanos(System.nanoTime() - t0));
            }));
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof RotationException r) {
                    throw r; // already says what failed (Hibernate may have wrapped it)
                }
            }
            throw new RotationException("the rotation failed and was rolled back, nothing changed: " + describe(e), e);
        }
    }

    private static void lock(Connection c, SecretBox current, SecretBox next, Duration lockTimeout) throws SQLException {
        Jdbc.query(c, "SELECT set_config('lock_timeout', ?, true)", rs -> null, lockTimeout.toMillis() + "ms");
        List<String> recorded = Jdbc.query(c, "SELECT fingerprint FROM secret_key_check WHERE key_id = ? FOR UPDATE",
                rs -> rs.getString(1), SecretKeys.CHECK_ID);
        if (recorded.isEmpty() || !recorded.get(0).equals(current.fingerprint())) {
            String now = recorded.isEmpty() ? "none" : recorded.get(0);
            throw new RotationException(now.equals(next.fingerprint())
                    ? "the database already uses the new key (fingerprint " + now + "): nothing to do"
                    : "the database records the key fingerprint " + now + ", not the configured current key's "
                    + current.fingerprint() + " (did another rotation just run?); nothing changed", null);
        }
        // writers of these tables wait until the rotation commits; ones already running finish first
        Jdbc.update(c, "LOCK TABLE acme_account, batch, certificate IN SHARE ROW EXCLUSIVE MODE");
    }

    private static int reencrypt(Connection c, Kind kind, SecretBox from, SecretBox to) throws SQLException {
        int n = 0;
        try (PreparedStatement select = c.prepareStatement(kind.select);
             PreparedStatement update = c.prepareStatement(
                     "UPDATE " + kind.table + " SET " + kind.column + " = ? WHERE id = ?")) {
            select.setFetchSize(1000);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    String context = kind.context(rs);
                    byte[] plain;
                    try {
                        plain = from.decrypt(rs.getBytes(2), context);
                    } catch (SecretBox.SecretDecryptionException e) {
                        throw new RotationException("the rotation was rolled back, nothing changed: " + kind.subject(rs)
                                + " does not decrypt with the current key: " + e.getMessage()
                                + " ('certfleet keys verify' lists every secret that does not)", e);
                    }
                    try {
                        update.setBytes(1, to.encrypt(plain, context));
                    } finally {
                        Arrays.fill(plain, (byte) 0);
                    }
                    update.setLong(2, rs.getLong(1));
                    update.addBatch();
                    if (++n % UPDATE_BATCH == 0) {
                        update.executeBatch();
                    }
                }
            }
            update.executeBatch();
        }
        return n;
    }

    /** Belt and braces before the commit: no secret is left under another key than {@code next}. */
    private static void requireAllUnder(Connection c, SecretBox next) throws SQLException {
        for (Kind k : Kind.values()) {
            long left = Jdbc.query(c, "SELECT count(*) FROM " + k.table + " WHERE " + k.column + " IS NOT NULL AND"
                    + " substring(" + k.column + " from 1 for 9) <> decode(?, 'hex')", rs -> rs.getLong(1),
                    "02" + next.keyId()).get(0);
            if (left > 0) {
                throw new RotationException("the rotation was rolled back, nothing changed: " + left + " rows of "
                        + k.table + " are still not under the new key after re-encryption", null);
            }
        }
    }

    /** Decrypts every stored secret with {@code box} (nothing is written) and reports what does not decrypt. */
    public static Verification verify(Store store, SecretBox box) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Map<Kind, Integer> ok = new EnumMap<>(Kind.class);
            List<String> failures = new ArrayList<>();
            int failed = 0;
            for (Kind k : Kind.values()) {
                int n = 0;
                try (PreparedStatement select = c.prepareStatement(k.select)) {
                    select.setFetchSize(1000);
                    try (ResultSet rs = select.executeQuery()) {
                        while (rs.next()) {
                            try {
                                Arrays.fill(box.decrypt(rs.getBytes(2), k.context(rs)), (byte) 0);
                                n++;
                            } catch (SecretBox.SecretDecryptionException e) {
                                if (++failed <= MAX_LISTED_FAILURES) {
                                    failures.add(k.subject(rs) + ": " + e.getMessage());
                                }
                            }
                        }
                    }
                }
                ok.put(k, n);
            }
            return new Verification(ok, failed, failures, box.fingerprint());
        }));
    }

    private static String processName() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "localhost";
        }
        return host + ":" + ProcessHandle.current().pid();
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != e; e = c, c = c.getCause()) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
        }
        return sb.toString();
    }
}
