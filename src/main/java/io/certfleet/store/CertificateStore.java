package io.certfleet.store;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.IssuedCertificateRecord;
import io.certfleet.model.RenewalWindow;

import java.sql.Array;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Certificates, validation ages and the CA event ledger. Certificate keys are encrypted with the
 * {@link SecretBox} under the context {@code certificate-key:<batch id>}, the same ciphertext the batch stored
 * before finalize.
 */
public final class CertificateStore {
    private final Store store;
    private final SecretBox box;

    public CertificateStore(Store store, SecretBox box) {
        this.store = store;
        this.box = box;
    }

    public static String keyContext(long batchId) {
        return "certificate-key:" + batchId;
    }

    public byte[] encryptKey(long batchId, char[] pem) {
        byte[] plain = new String(pem).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try {
            return box.encrypt(plain, keyContext(batchId));
        } finally {
            Arrays.fill(plain, (byte) 0);
        }
    }

    public char[] decryptKey(long batchId, byte[] ciphertext) {
        byte[] plain = box.decrypt(ciphertext, keyContext(batchId));
        try {
            return new String(plain, java.nio.charset.StandardCharsets.UTF_8).toCharArray();
        } finally {
            Arrays.fill(plain, (byte) 0);
        }
    }

    /**
     * Stores an issued certificate for a production batch and marks the batch issued and its names issued, in one
     * transaction. Idempotent on (environment, serial): a second call after a crash finds the row and only
     * completes the state changes.
     */
    public long storeIssued(long batchId, CaEnvironment env, List<Long> domainIds, List<String> names, String serial,
                            Instant notBefore, Instant notAfter, String chainPem, String certificateUrl,
                            Instant renewAt, String renewBasis) {
        return storeIssued(batchId, env, domainIds, names, serial, notBefore, notAfter, chainPem, certificateUrl,
                renewAt, renewBasis, Optional.empty(), Optional.empty());
    }

    /**
     * As above, with the CA's ARI window of the certificate (when the CA offers ARI) and its ARI CertID, so a
     * renewal can carry {@code replaces} and tell whether it is inside the window.
     */
    public long storeIssued(long batchId, CaEnvironment env, List<Long> domainIds, List<String> names, String serial,
                            Instant notBefore, Instant notAfter, String chainPem, String certificateUrl,
                            Instant renewAt, String renewBasis, Optional<RenewalWindow> ari,
                            Optional<String> ariCertId) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Instant now = Instant.now();
            List<Long> existing = Jdbc.query(c, "SELECT id FROM certificate WHERE environment = ? AND serial = ?",
                    rs -> rs.getLong(1), env.wire(), serial);
            long id;
            if (existing.isEmpty()) {
                id = Jdbc.insertReturningId(c, """
                        INSERT INTO certificate (environment, batch_id, names, serial, not_before, not_after, chain_pem,
                                                 key_algorithm, key_ciphertext, certificate_url, renew_at, renew_basis,
                                                 created_at, ari_window_start, ari_window_end, ari_cert_id)
                        SELECT ?, id, ?, ?, ?, ?, ?, cert_key_algorithm, cert_key_ciphertext, ?, ?, ?, ?, ?, ?, ?
                        FROM batch WHERE id = ?""",
                        env.wire(), Jdbc.TextArray.of(names), serial, notBefore, notAfter, chainPem, certificateUrl,
                        renewAt, renewBasis, now, ari.map(RenewalWindow::start), ari.map(RenewalWindow::end), ariCertId,
                        batchId);
                Jdbc.update(c, "INSERT INTO certificate_name (certificate_id, domain_id) SELECT ?, unnest(?::bigint[])",
                        id, Jdbc.LongArray.of(domainIds));
                // an older certificate is replaced once every name it still serves is in a newer one
                Jdbc.update(c, """
                        UPDATE certificate old SET replaced_by_id = ? WHERE old.environment = ? AND old.id <> ?
                          AND old.replaced_by_id IS NULL
                          AND EXISTS (SELECT 1 FROM certificate_name s WHERE s.certificate_id = old.id AND s.domain_id = ANY(?))
                          AND NOT EXISTS (
                              SELECT 1 FROM certificate_name cn JOIN domain d ON d.id = cn.domain_id
                              WHERE cn.certificate_id = old.id AND d.state <> 'removed'
                                AND NOT EXISTS (SELECT 1 FROM certificate_name n JOIN certificate nc ON nc.id = n.certificate_id
                                                WHERE n.domain_id = cn.domain_id AND nc.environment = old.environment
                                                  AND nc.id > old.id))""",
                        id, env.wire(), id, Jdbc.LongArray.of(domainIds));
            } else {
                id = existing.get(0);
            }
            Jdbc.update(c, """
                    UPDATE batch SET state = 'issued', certificate_url = ?, not_before = NULL, lease_owner = NULL,
                           lease_until = NULL, updated_at = ? WHERE id = ?""", certificateUrl, now, batchId);
            Jdbc.update(c, "UPDATE batch_member SET active = false, outcome = 'issued' WHERE batch_id = ?", batchId);
            Jdbc.update(c, """
                    UPDATE domain SET state = 'issued', reason_code = NULL, reason_detail = NULL, next_attempt_at = NULL,
                           attempts = 0, updated_at = ? WHERE id = ANY(?) AND state <> 'removed'""",
                    now, Jdbc.LongArray.of(domainIds));
            return id;
        }));
    }

    /**
     * Puts the names of production certificates whose renewal time has come back into the queue ({@code pending},
     * reason {@code RENEWAL_DUE}); the next admission re-packs them with their customer's other pending names.
     * Names the operator removed, or that are already queued, are left alone.
     *
     * @return how many names were queued
     */
    public int queueDueRenewals(Instant now) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c, """
                UPDATE domain d SET state = 'pending', reason_code = 'RENEWAL_DUE',
                       reason_detail = 'certificate ' || x.id || ' renews now: ' || coalesce(x.renew_basis, ''),
                       next_attempt_at = NULL, updated_at = ?
                FROM certificate x JOIN certificate_name cn ON cn.certificate_id = x.id
                WHERE cn.domain_id = d.id AND x.environment = 'production' AND x.replaced_by_id IS NULL
                  AND x.renew_at <= ? AND d.state = 'issued'
                  AND NOT EXISTS (SELECT 1 FROM certificate_name n2 JOIN certificate c2 ON c2.id = n2.certificate_id
                                  WHERE n2.domain_id = d.id AND c2.environment = 'production' AND c2.id > x.id)""",
                now, now)));
    }

    /**
     * Records (or refreshes) when a name was last validated in an environment, for fresh-skip and operators, and
     * resets its consecutive failed authorizations for the account.
     */
    public void recordValidation(long domainId, CaEnvironment env, long accountId, Instant validatedAt,
                                 String authzUrl, Optional<Instant> expires) {
        store.inTransaction(s -> s.doReturningWork(c -> {
            Jdbc.update(c, """
                    INSERT INTO validation (domain_id, environment, account_id, validated_at, authz_url, authz_expires)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (domain_id, environment, account_id) DO UPDATE SET validated_at = excluded.validated_at,
                        authz_url = excluded.authz_url, authz_expires = excluded.authz_expires, recorded_at = now()""",
                    domainId, env.wire(), accountId, validatedAt, authzUrl, expires);
            // a valid authorization ends the name's run of failures for this account, as at Let's Encrypt
            return Jdbc.update(c, "DELETE FROM authz_failure_streak WHERE domain_id = ? AND environment = ? AND account_id = ?",
                    domainId, env.wire(), accountId);
        }));
    }

    /**
     * A production certificate a new order for these names could replace (ARI): unexpired, not replaced by a newer
     * certificate of ours, and not the {@code replaces} of another order the CA may still hold (a batch that placed
     * its order and is open, or issued). One inside its ARI window wins (only such a replacement is exempt from the
     * CA's limits), then the one sharing the most names, then the newest.
     *
     * @param batchId the batch that would carry {@code replaces} (its own claim does not count)
     */
    public Optional<Replaceable> replaceable(long batchId, Collection<Long> domainIds, Instant now) {
        if (domainIds.isEmpty()) {
            return Optional.empty();
        }
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c, """
                SELECT x.id, x.chain_pem, x.ari_cert_id, x.ari_window_start, x.ari_window_end, count(*) AS shared
                FROM certificate x JOIN certificate_name cn ON cn.certificate_id = x.id
                WHERE x.environment = 'production' AND x.replaced_by_id IS NULL AND x.not_after > ?
                  AND cn.domain_id = ANY(?)
                  AND NOT EXISTS (SELECT 1 FROM batch o WHERE o.replaces_certificate_id = x.id AND o.id <> ?
                                  AND o.state IN ('ordered', 'authorizing', 'finalizing', 'issued'))
                GROUP BY x.id
                ORDER BY (x.ari_window_start <= ? AND ? < x.ari_window_end) IS TRUE DESC, shared DESC, x.id DESC
                LIMIT 1""",
                rs -> new Replaceable(rs.getLong("id"), rs.getString("chain_pem"),
                        Optional.ofNullable(rs.getString("ari_cert_id")), window(rs)),
                now, Jdbc.LongArray.of(domainIds), batchId, now, now).stream().findFirst()));
    }

    /** The certificate a batch's order replaces, by id. */
    public Optional<Replaceable> replaceableById(long certificateId) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c, """
                SELECT id, chain_pem, ari_cert_id, ari_window_start, ari_window_end FROM certificate WHERE id = ?""",
                rs -> new Replaceable(rs.getLong("id"), rs.getString("chain_pem"),
                        Optional.ofNullable(rs.getString("ari_cert_id")), window(rs)), certificateId)
                .stream().findFirst()));
    }

    private static Optional<RenewalWindow> window(java.sql.ResultSet rs) throws java.sql.SQLException {
        Optional<Instant> start = Jdbc.instant(rs, "ari_window_start");
        Optional<Instant> end = Jdbc.instant(rs, "ari_window_end");
        return start.isPresent() && end.isPresent() ? Optional.of(new RenewalWindow(start.get(), end.get(),
                Optional.empty())) : Optional.empty();
    }

    /**
     * A certificate a renewal may name in ARI {@code replaces}: its chain (the leaf gives the CertID), the CertID
     * when stored, and the CA's renewal window when it offered ARI.
     */
    public record Replaceable(long id, String chainPem, Optional<String> ariCertId, Optional<RenewalWindow> window) {
        /** Let's Encrypt exempts a replacement from its limits only inside the replaced certificate's window. */
        public boolean inWindow(Instant now) {
            return window.filter(w -> !now.isBefore(w.start()) && now.isBefore(w.end())).isPresent();
        }
    }

    /**
     * A new order placed: the ledger's {@code NEW_ORDER ok} event, with the ARI CertID it replaces and whether it
     * was exempt from the CA's limits (exempt orders spend no new-order budget).
     */
    public void recordNewOrder(CaEnvironment env, long accountId, long batchId, List<String> identifiers,
                               Optional<String> replaces, boolean limitsExempt) {
        store.inTransaction(s -> s.doReturningWork(c -> insertNewOrderEvent(c, env, accountId, batchId, identifiers,
                replaces, limitsExempt)));
    }

    /** The ledger's row for a placed order, on the caller's connection (so it commits with the batch's URL). */
    static int insertNewOrderEvent(java.sql.Connection c, CaEnvironment env, long accountId, long batchId,
                                   List<String> identifiers, Optional<String> replaces, boolean limitsExempt)
            throws java.sql.SQLException {
        return Jdbc.update(c, """
                INSERT INTO ca_event (environment, account_id, batch_id, request, outcome, identifiers, replaces,
                                      limits_exempt) VALUES (?, ?, ?, 'NEW_ORDER', 'ok', ?, ?, ?)""",
                env.wire(), accountId, batchId, Jdbc.TextArray.of(identifiers), replaces, limitsExempt);
    }

    /** One ACME request's outcome, for the rate-limit ledger and for operators. */
    public void recordEvent(CaEnvironment env, Optional<Long> accountId, Optional<Long> batchId, String request,
                            String outcome, Optional<String> problemType, Optional<String> detail,
                            List<String> identifiers, Optional<Instant> retryAfter) {
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c, """
                INSERT INTO ca_event (environment, account_id, batch_id, request, outcome, problem_type, detail,
                                      identifiers, retry_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                env.wire(), accountId, batchId, request, outcome, problemType,
                detail.map(d -> d.length() > 2000 ? d.substring(0, 2000) : d),
                identifiers.isEmpty() ? null : Jdbc.TextArray.of(identifiers), retryAfter)));
    }

    /** Counts of ACME requests per (environment, request, outcome) since {@code since}. */
    public List<EventCount> eventCounts(Instant since) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c, """
                SELECT environment, request, outcome, count(*) FROM ca_event WHERE occurred_at >= ?
                GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
                rs -> new EventCount(CaEnvironment.fromWire(rs.getString(1)), rs.getString(2), rs.getString(3),
                        rs.getLong(4)), since)));
    }

    /** A count of ACME requests of one kind and outcome. */
    public record EventCount(CaEnvironment environment, String request, String outcome, long count) {
    }

    public List<IssuedCertificateRecord> list(CaEnvironment env) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c, """
                SELECT id, environment, batch_id, names, serial, not_before, not_after, chain_pem FROM certificate
                WHERE environment = ? ORDER BY id""", rs -> {
            Array a = rs.getArray("names");
            return new IssuedCertificateRecord(rs.getLong("id"), CaEnvironment.fromWire(rs.getString("environment")),
                    rs.getLong("batch_id"), Arrays.asList((String[]) a.getArray()), rs.getString("serial"),
                    rs.getTimestamp("not_before").toInstant(), rs.getTimestamp("not_after").toInstant(),
                    rs.getString("chain_pem"));
        }, env.wire())));
    }

    public Optional<IssuedCertificateRecord> find(long id) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c, """
                SELECT id, environment, batch_id, names, serial, not_before, not_after, chain_pem FROM certificate
                WHERE id = ?""", rs -> new IssuedCertificateRecord(rs.getLong("id"),
                CaEnvironment.fromWire(rs.getString("environment")), rs.getLong("batch_id"),
                Arrays.asList((String[]) rs.getArray("names").getArray()), rs.getString("serial"),
                rs.getTimestamp("not_before").toInstant(), rs.getTimestamp("not_after").toInstant(),
                rs.getString("chain_pem")), id).stream().findFirst()));
    }

    /** The decrypted private key of a stored certificate (PEM). */
    public char[] privateKey(long certificateId) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c,
                "SELECT batch_id, key_ciphertext FROM certificate WHERE id = ?",
                rs -> decryptKey(rs.getLong(1), rs.getBytes(2)), certificateId).stream().findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no certificate " + certificateId))));
    }
}
