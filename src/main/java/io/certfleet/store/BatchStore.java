package io.certfleet.store;

import io.certfleet.model.Batch;
import io.certfleet.model.BatchMember;
import io.certfleet.model.BatchState;
import io.certfleet.model.BatchTransition;
import io.certfleet.model.BisectState;
import io.certfleet.model.CaEnvironment;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Batches and their members: creation, leases for the node that steps a batch, recording where the order lives
 * at the CA, and atomic transitions. Every method is one transaction.
 */
public final class BatchStore {
    private static final String OPEN = "('planned', 'ordered', 'authorizing', 'finalizing')";

    private final Store store;

    public BatchStore(Store store) {
        this.store = store;
    }

    /** Creates a batch whose names move to {@code batched}. Fails if a name is already in an open batch. */
    public long create(BatchTransition.NewBatch b) {
        return store.inTransaction(s -> s.doReturningWork(c -> insertBatch(c, b, Instant.now())));
    }

    /** Creates several batches in one transaction. */
    public List<Long> createAll(List<BatchTransition.NewBatch> batches) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            List<Long> ids = new ArrayList<>();
            Instant now = Instant.now();
            for (var b : batches) {
                ids.add(insertBatch(c, b, now));
            }
            return ids;
        }));
    }

    private static long insertBatch(Connection c, BatchTransition.NewBatch b, Instant now) throws SQLException {
        long id = Jdbc.insertReturningId(c, """
                INSERT INTO batch (environment, customer, parent_id, rehearsal_id, attempts, probe_ids, bisect_verified,
                                   bisect_suspects, bisect_unknown, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                b.environment().wire(), b.customer(), b.parentId(), b.rehearsalId(), b.attempts(),
                b.probeIds().isEmpty() ? null : Jdbc.LongArray.of(b.probeIds()),
                b.bisect().map(x -> Jdbc.LongArray.of(x.verified())).orElse(null),
                b.bisect().map(x -> Jdbc.LongArray.of(x.suspects())).orElse(null),
                b.bisect().map(x -> Jdbc.LongArray.of(x.unknown())).orElse(null), now, now);
        if (b.parentId().isPresent()) {
            // names parked in a split parent move into the child
            Jdbc.update(c, "UPDATE batch_member SET active = false WHERE batch_id = ? AND domain_id = ANY(?) AND active",
                    b.parentId().get(), Jdbc.LongArray.of(b.domainIds()));
        }
        Jdbc.update(c, "INSERT INTO batch_member (batch_id, domain_id) SELECT ?, unnest(?::bigint[])",
                id, Jdbc.LongArray.of(b.domainIds()));
        Jdbc.update(c, "UPDATE domain SET state = 'batched', updated_at = ? WHERE id = ANY(?)",
                now, Jdbc.LongArray.of(b.domainIds()));
        return id;
    }

    /**
     * Leases up to {@code limit} open batches that are due, so no other node steps them meanwhile
     * ({@code FOR UPDATE SKIP LOCKED} plus a lease that expires if this node dies).
     */
    public List<Long> claimDue(Instant now, String owner, Duration lease, int limit) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c, """
                UPDATE batch SET lease_owner = ?, lease_until = ? WHERE id IN (
                    SELECT id FROM batch WHERE state IN %s AND (not_before IS NULL OR not_before <= ?)
                      AND (lease_until IS NULL OR lease_until < ?)
                    ORDER BY coalesce(not_before, created_at), id FOR UPDATE SKIP LOCKED LIMIT ?)
                RETURNING id""".formatted(OPEN), rs -> rs.getLong(1), owner, now.plus(lease), now, now, limit)));
    }

    /**
     * Frees the leases of owners that hold no step any more (a node on this host whose process is gone after a
     * kill, or this process between its steps), so their batches continue at once instead of when the lease
     * expires.
     */
    public int releaseLeasesOf(java.util.function.Predicate<String> idleOwner) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            int n = 0;
            for (String owner : Jdbc.query(c, "SELECT DISTINCT lease_owner FROM batch WHERE lease_owner IS NOT NULL",
                    rs -> rs.getString(1))) {
                if (idleOwner.test(owner)) {
                    n += Jdbc.update(c, "UPDATE batch SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?", owner);
                }
            }
            return n;
        }));
    }

    public void release(long batchId, String owner) {
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c,
                "UPDATE batch SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
                batchId, owner)));
    }

    /** The earliest time an open batch becomes due, or empty when there are no open batches. */
    public Optional<Instant> nextDue() {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c,
                "SELECT min(coalesce(not_before, now())) AS t, count(*) AS n FROM batch WHERE state IN "
                        + OPEN, rs -> rs.getLong("n") == 0 ? Optional.<Instant>empty()
                        : Optional.of(Jdbc.instant(rs, "t").orElse(Instant.EPOCH))).get(0)));
    }

    public int openCount() {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c,
                "SELECT count(*) FROM batch WHERE state IN " + OPEN, rs -> rs.getInt(1)).get(0)));
    }

    public Batch load(long id) {
        return store.inTransaction(s -> s.doReturningWork(c -> loadBatch(c, id)));
    }

    private static Batch loadBatch(Connection c, long id) throws SQLException {
        List<BatchMember> members = Jdbc.query(c, """
                SELECT m.domain_id, d.identifier, m.authz_url, m.triggered, m.outcome FROM batch_member m
                JOIN domain d ON d.id = m.domain_id WHERE m.batch_id = ? AND m.active ORDER BY d.identifier""",
                rs -> new BatchMember(rs.getLong(1), rs.getString(2), Optional.ofNullable(rs.getString(3)),
                        rs.getBoolean(4), "validated".equals(rs.getString(5))), id);
        return Jdbc.query(c, "SELECT * FROM batch WHERE id = ?", rs -> {
            List<Long> verified = Jdbc.longs(rs, "bisect_verified");
            Optional<BisectState> bisect = rs.getArray("bisect_verified") == null ? Optional.empty()
                    : Optional.of(new BisectState(verified, Jdbc.longs(rs, "bisect_suspects"),
                    Jdbc.longs(rs, "bisect_unknown")));
            return new Batch(rs.getLong("id"), CaEnvironment.fromWire(rs.getString("environment")),
                    BatchState.fromWire(rs.getString("state")), Optional.ofNullable(rs.getString("customer")),
                    Jdbc.optLong(rs, "parent_id"), Jdbc.optLong(rs, "rehearsal_id"), Jdbc.optLong(rs, "account_id"),
                    Optional.ofNullable(rs.getString("order_url")), rs.getInt("attempts"), rs.getInt("ca_failures"),
                    Jdbc.instant(rs, "not_before"), members, Set.copyOf(Jdbc.longs(rs, "probe_ids")), bisect,
                    Optional.ofNullable(rs.getBytes("cert_key_ciphertext")),
                    Optional.ofNullable(rs.getString("cert_key_algorithm")),
                    Optional.ofNullable(rs.getString("error_detail")));
        }, id).stream().findFirst().orElseThrow(() -> new IllegalArgumentException("no batch " + id));
    }

    /** Records the order's URL and account, and the new order in the ledger ({@code ca_event}); the batch becomes
     * {@code ordered}. */
    public void markOrdered(long batchId, long accountId, String orderUrl, CaEnvironment env, List<String> identifiers,
                            Optional<String> replaces, boolean limitsExempt) {
        // the order's URL and its ledger entry commit together: a kill between them would leave an order the
        // new-order limit never counts
        store.inTransaction(s -> s.doReturningWork(c -> {
            Jdbc.update(c, """
                    UPDATE batch SET state = 'ordered', account_id = ?, order_url = ?, not_before = NULL, ca_failures = 0,
                           error_type = NULL, error_detail = NULL, updated_at = now() WHERE id = ?""",
                    accountId, orderUrl, batchId);
            return CertificateStore.insertNewOrderEvent(c, env, accountId, batchId, identifiers, replaces, limitsExempt);
        }));
    }

    /** Remembers where each member's authorization lives and which challenges were triggered. */
    public void recordAuthorizations(long batchId, Map<Long, String> authzUrls, Collection<Long> triggered,
                                     Collection<Long> validated) {
        store.inTransaction(s -> s.doReturningWork(c -> {
            for (var e : authzUrls.entrySet()) {
                Jdbc.update(c, "UPDATE batch_member SET authz_url = ? WHERE batch_id = ? AND domain_id = ?",
                        e.getValue(), batchId, e.getKey());
            }
            if (!triggered.isEmpty()) {
                Jdbc.update(c, "UPDATE batch_member SET triggered = true WHERE batch_id = ? AND domain_id = ANY(?)",
                        batchId, Jdbc.LongArray.of(triggered));
            }
            if (!validated.isEmpty()) {
                Jdbc.update(c, "UPDATE batch_member SET outcome = 'validated' WHERE batch_id = ? AND domain_id = ANY(?)",
                        batchId, Jdbc.LongArray.of(validated));
                // a validation that passed ends a run of failures that were not the name's own
                Jdbc.update(c, "UPDATE domain SET reason_code = NULL, reason_detail = NULL WHERE id = ANY(?) AND reason_code = ?",
                        Jdbc.LongArray.of(validated), RETRIED);
            }
            return null;
        }));
    }

    /**
     * The reason code of a name whose validation failed in a way that may not be its own and which is ordered
     * again; it stays on the domain until the name validates.
     */
    public static final String RETRIED = "VALIDATION_UNVERIFIED";

    /**
     * Those of {@code domainIds} whose validation failures were retried at least {@code times} in a row (reason
     * {@link #RETRIED} still set, and that many retried batches since the name last validated).
     */
    public Set<Long> retriedBefore(Collection<Long> domainIds, int times) {
        return store.inTransaction(s -> s.doReturningWork(c -> Set.copyOf(Jdbc.query(c, """
                SELECT d.id FROM domain d WHERE d.id = ANY(?) AND d.reason_code = ?
                  AND (SELECT count(*) FROM batch_member m JOIN batch b ON b.id = m.batch_id
                       WHERE m.domain_id = d.id AND m.outcome = ?
                         AND b.created_at > coalesce((SELECT max(v.validated_at) FROM validation v
                                                      WHERE v.domain_id = d.id), '-infinity')) >= ?""",
                rs -> rs.getLong(1), Jdbc.LongArray.of(domainIds), RETRIED, RETRIED, times))));
    }

    /** Moves an open batch to another open state, or keeps it and sets when to look at it again. */
    public void advance(long batchId, BatchState state, Optional<Instant> notBefore) {
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c,
                "UPDATE batch SET state = ?, not_before = ?, ca_failures = 0, updated_at = now() WHERE id = ?",
                state.wire(), notBefore, batchId)));
    }

    /** The CA could not serve this step (not the names' fault): try again at {@code notBefore}. */
    public void defer(long batchId, Instant notBefore, String errorType, String errorDetail) {
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c, """
                UPDATE batch SET not_before = ?, ca_failures = ca_failures + 1, error_type = ?, error_detail = ?,
                       updated_at = now() WHERE id = ?""", notBefore, errorType, errorDetail, batchId)));
    }

    /** The batch waits for a budget window (not a failure: no attempt is counted). */
    public void waitUntil(long batchId, Instant notBefore, String reason, String detail) {
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c, """
                UPDATE batch SET not_before = ?, error_type = ?, error_detail = ?, updated_at = now() WHERE id = ?""",
                notBefore, reason, detail, batchId)));
    }

    /**
     * Takes names out of a batch that has not placed its order yet, before it does: each waits as its
     * {@link BatchTransition.Hold} says (held until a time, or stopped). The batch keeps its other names; when none
     * is left it is {@code abandoned} with the first hold's reason. One transaction.
     *
     * @return how many members the batch has left
     */
    public int holdMembers(long batchId, Map<Long, BatchTransition.Hold> holds) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Instant now = Instant.now();
            for (var h : holds.entrySet()) {
                holdMember(c, batchId, h.getKey(), h.getValue(), now);
            }
            int left = Jdbc.query(c, "SELECT count(*) FROM batch_member WHERE batch_id = ? AND active",
                    rs -> rs.getInt(1), batchId).get(0);
            if (left == 0 && !holds.isEmpty()) {
                BatchTransition.Reason first = holds.values().iterator().next().reason();
                Jdbc.update(c, """
                        UPDATE batch SET state = 'abandoned', error_type = ?, error_detail = ?, not_before = NULL,
                               lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ?""",
                        first.code(), "every name was taken out before the order: " + first.detail(), now, batchId);
            }
            return left;
        }));
    }

    private static void holdMember(Connection c, long batchId, long domainId, BatchTransition.Hold h, Instant now)
            throws SQLException {
        Jdbc.update(c, """
                UPDATE batch_member SET active = false, outcome = ?, outcome_detail = ?
                WHERE batch_id = ? AND domain_id = ?""", h.reason().code(), h.reason().detail(), batchId, domainId);
        Jdbc.update(c, "UPDATE batch_member SET active = false WHERE domain_id = ? AND active", domainId);
        Jdbc.update(c, """
                UPDATE domain SET state = ?, reason_code = ?, reason_detail = ?, next_attempt_at = ?,
                       attempts = attempts + CASE WHEN ? = 'quarantined' THEN 1 ELSE 0 END, updated_at = ?
                WHERE id = ? AND state NOT IN ('issued', 'removed')""",
                h.state().wire(), h.reason().code(), h.reason().detail(), h.until(), h.state().wire(), now, domainId);
    }

    /** The certificate a production batch's order replaces (ARI), and whether the CA refused that. */
    public record Replaces(Optional<Long> certificateId, boolean refused) {
    }

    public Replaces replaces(long batchId) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c,
                "SELECT replaces_certificate_id, replaces_refused FROM batch WHERE id = ?",
                rs -> new Replaces(Jdbc.optLong(rs, "replaces_certificate_id"), rs.getBoolean("replaces_refused")),
                batchId).get(0)));
    }

    /** Remembers, before the order is placed, the certificate the batch's order replaces. */
    public void setReplaces(long batchId, long certificateId) {
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c,
                "UPDATE batch SET replaces_certificate_id = ?, updated_at = now() WHERE id = ?", certificateId, batchId)));
    }

    /** The CA refused the replacement (e.g. {@code alreadyReplaced}): the batch orders without {@code replaces}. */
    public void refuseReplaces(long batchId, String detail) {
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c, """
                UPDATE batch SET replaces_certificate_id = NULL, replaces_refused = true, error_type = 'REPLACES_REFUSED',
                       error_detail = ?, updated_at = now() WHERE id = ?""", detail, batchId)));
    }

    /**
     * Stores the encrypted certificate key before finalize, so a crash after finalize loses nothing.
     *
     * @throws SecretBox.WrongKeyException when the secrets key was rotated away from the ciphertext's key
     */
    public void storeCertificateKey(long batchId, byte[] ciphertext, String algorithm) {
        store.inTransaction(s -> s.doReturningWork(c -> {
            // first: a key rotation that committed meanwhile makes this refuse instead of storing an old-key secret
            SecretKeys.requireCurrent(c, ciphertext, "the certificate key of batch " + batchId);
            return Jdbc.update(c, "UPDATE batch SET cert_key_ciphertext = ?, cert_key_algorithm = ? WHERE id = ?",
                    ciphertext, algorithm, batchId);
        }));
    }

    /** Applies a transition atomically (see {@link BatchTransition}); returns the ids of the children created. */
    public List<Long> apply(BatchTransition t) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Instant now = Instant.now();
            Jdbc.update(c, """
                    UPDATE batch SET state = ?, error_type = ?, error_detail = ?, not_before = NULL, lease_owner = NULL,
                           lease_until = NULL, updated_at = ? WHERE id = ?""",
                    t.newState().wire(), t.errorType(), t.errorDetail(), now, t.batchId());
            Jdbc.update(c, "UPDATE batch_member SET active = false WHERE batch_id = ?", t.batchId());
            for (var q : t.quarantine().entrySet()) {
                Jdbc.update(c, "UPDATE batch_member SET outcome = ?, outcome_detail = ? WHERE batch_id = ? AND domain_id = ?",
                        q.getValue().code(), q.getValue().detail(), t.batchId(), q.getKey());
                Jdbc.update(c, "UPDATE batch_member SET active = false WHERE domain_id = ? AND active", q.getKey());
                // the backoff doubles with the failures the name already had, up to the maximum
                Jdbc.update(c, """
                        UPDATE domain SET state = 'quarantined', reason_code = ?, reason_detail = ?, attempts = attempts + 1,
                               next_attempt_at = ?::timestamptz
                                   + make_interval(secs => LEAST(? * power(2, LEAST(attempts, 20)), ?)),
                               updated_at = ? WHERE id = ?""",
                        q.getValue().code(), q.getValue().detail(), now,
                        (double) t.quarantineBackoff().first().toSeconds(), (double) t.quarantineBackoff().max().toSeconds(),
                        now, q.getKey());
            }
            for (var h : t.hold().entrySet()) {
                holdMember(c, t.batchId(), h.getKey(), h.getValue(), now);
            }
            for (var r : t.retried().entrySet()) {
                Jdbc.update(c, "UPDATE batch_member SET outcome = ?, outcome_detail = ? WHERE batch_id = ? AND domain_id = ?",
                        r.getValue().code(), r.getValue().detail(), t.batchId(), r.getKey());
                Jdbc.update(c, "UPDATE domain SET reason_code = ?, reason_detail = ?, updated_at = ? WHERE id = ? AND state = 'batched'",
                        r.getValue().code(), r.getValue().detail(), now, r.getKey());
            }
            if (t.parkIn().isPresent()) {
                Jdbc.update(c, """
                        UPDATE batch_member p SET active = true FROM batch_member m
                        WHERE m.batch_id = ? AND p.batch_id = ? AND p.domain_id = m.domain_id AND NOT (m.domain_id = ANY(?))""",
                        t.batchId(), t.parkIn().get(), Jdbc.LongArray.of(t.quarantine().keySet()));
            }
            for (var r : t.release().entrySet()) {
                Jdbc.update(c, "UPDATE batch_member SET active = false WHERE domain_id = ? AND active", r.getKey());
                Jdbc.update(c, """
                        UPDATE domain SET state = 'pending', reason_code = ?, reason_detail = ?, updated_at = ?
                        WHERE id = ? AND state = 'batched'""", r.getValue().code(), r.getValue().detail(), now, r.getKey());
            }
            List<Long> ids = new ArrayList<>();
            for (var child : t.children()) {
                ids.add(insertBatch(c, child, now));
            }
            // no name is left stranded: members that went nowhere else return to the queue
            Jdbc.update(c, """
                    UPDATE domain d SET state = 'pending', updated_at = ? FROM batch_member m
                    WHERE m.batch_id = ? AND m.domain_id = d.id AND d.state = 'batched'
                      AND NOT EXISTS (SELECT 1 FROM batch_member o WHERE o.domain_id = d.id AND o.active)""",
                    now, t.batchId());
            if (t.parentUpdate().isPresent()) {
                var p = t.parentUpdate().get();
                if (p.bisect().isPresent()) {
                    BisectState b = p.bisect().get();
                    Jdbc.update(c, "UPDATE batch SET bisect_verified = ?, bisect_suspects = ?, bisect_unknown = ? WHERE id = ?",
                            Jdbc.LongArray.of(b.verified()), Jdbc.LongArray.of(b.suspects()),
                            Jdbc.LongArray.of(b.unknown()), p.parentId());
                }
                if (p.newState().isPresent()) {
                    Jdbc.update(c, "UPDATE batch SET state = ?, updated_at = ? WHERE id = ?",
                            p.newState().get().wire(), now, p.parentId());
                }
            }
            return ids;
        }));
    }
}
