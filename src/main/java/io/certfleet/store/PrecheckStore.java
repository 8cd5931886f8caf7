package io.certfleet.store;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainName;
import io.certfleet.model.DomainState;
import io.certfleet.model.DueDomain;
import io.certfleet.model.PrecheckRecord;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The queue side of a run: which domains are due, their validation ages, and recording pre-check outcomes. */
public final class PrecheckStore {
    private final Store store;

    private static final Jdbc.RowMapper<DueDomain> DUE = rs -> new DueDomain(rs.getLong("id"),
            new DomainName(rs.getString("name"), rs.getBoolean("wildcard")), Optional.ofNullable(rs.getString("customer")),
            DomainState.fromWire(rs.getString("state")), rs.getInt("attempts"),
            Optional.ofNullable(rs.getString("registered_domain")));

    public PrecheckStore(Store store) {
        this.store = store;
    }

    /** The store this repository works on (for sibling repositories built from it). */
    public Store store() {
        return store;
    }

    /**
     * Pending domains, and quarantined or held ones whose next attempt is due, that are in no open batch; oldest
     * first.
     */
    public List<DueDomain> dueDomains(Instant now, int limit) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c, """
                SELECT d.id, d.name, d.wildcard, d.customer, d.state, d.attempts, d.registered_domain FROM domain d
                WHERE (d.state = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)
                       OR d.state IN ('quarantined', 'held') AND d.next_attempt_at <= ?)
                  AND NOT EXISTS (SELECT 1 FROM batch_member m WHERE m.domain_id = d.id AND m.active)
                ORDER BY d.id LIMIT ?""",
                DUE,
                now, now, limit)));
    }

    /**
     * Issued names of production certificates whose renewal time has come (the next run queues them); the
     * counterpart of {@code CertificateStore.queueDueRenewals} that changes nothing.
     */
    public List<DueDomain> renewalCandidates(Instant now) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c, """
                SELECT DISTINCT d.id, d.name, d.wildcard, d.customer, d.state, d.attempts, d.registered_domain
                FROM certificate x JOIN certificate_name cn ON cn.certificate_id = x.id JOIN domain d ON d.id = cn.domain_id
                WHERE x.environment = 'production' AND x.replaced_by_id IS NULL AND x.renew_at <= ? AND d.state = 'issued'
                  AND NOT EXISTS (SELECT 1 FROM certificate_name n2 JOIN certificate c2 ON c2.id = n2.certificate_id
                                  WHERE n2.domain_id = d.id AND c2.environment = 'production' AND c2.id > x.id)
                ORDER BY d.id""",
                DUE, now)));
    }

    /**
     * When each domain's production authorization (for {@code accountId}) was validated, for those whose
     * authorization is still valid at {@code validUntilAtLeast}.
     */
    public Map<Long, Instant> validatedAt(Collection<Long> domainIds, CaEnvironment env, long accountId,
                                          Instant validUntilAtLeast) {
        if (domainIds.isEmpty()) {
            return Map.of();
        }
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Map<Long, Instant> out = new HashMap<>();
            for (var row : Jdbc.query(c, """
                    SELECT domain_id, validated_at FROM validation
                    WHERE domain_id = ANY(?) AND environment = ? AND account_id = ? AND authz_expires > ?""",
                    rs -> Map.entry(rs.getLong(1), rs.getTimestamp(2).toInstant()),
                    Jdbc.LongArray.of(domainIds), env.wire(), accountId, validUntilAtLeast)) {
                out.put(row.getKey(), row.getValue());
            }
            return out;
        }));
    }

    /** Records one pre-check run's outcomes and applies them to the domains, in one transaction. */
    public long record(CaEnvironment env, String resolvers, boolean degraded, Optional<String> degradedReason,
                       Instant startedAt, Instant finishedAt, List<PrecheckRecord> records) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            long runId = Jdbc.insertReturningId(c, """
                    INSERT INTO precheck_run (environment, started_at, finished_at, resolvers, names_total, degraded,
                                              degraded_reason) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    env.wire(), startedAt, finishedAt, resolvers, records.size(), degraded, degradedReason);
            insertResults(c, runId, env, finishedAt, records);
            updateDomains(c, finishedAt, records);
            return runId;
        }));
    }

    private static void insertResults(Connection c, long runId, CaEnvironment env, Instant at,
                                      List<PrecheckRecord> records) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO precheck_result (run_id, domain_id, environment, verdict, reason, level, detail, evidence,
                                             elapsed_ms, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)""")) {
            for (PrecheckRecord r : records) {
                ps.setLong(1, runId);
                ps.setLong(2, r.domainId());
                ps.setString(3, env.wire());
                ps.setString(4, r.verdict());
                ps.setString(5, r.reason());
                ps.setString(6, r.level().orElse(null));
                ps.setString(7, r.detail());
                ps.setString(8, r.evidenceJson().orElse(null));
                ps.setInt(9, (int) Math.min(Integer.MAX_VALUE, r.elapsedMs()));
                ps.setTimestamp(10, Timestamp.from(at));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static void updateDomains(Connection c, Instant now, List<PrecheckRecord> records) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE domain SET state = ?, reason_code = ?, reason_detail = ?, next_attempt_at = ?, updated_at = ?,
                       attempts = CASE WHEN ? THEN attempts + 1 ELSE attempts END
                WHERE id = ? AND state <> 'removed'""")) {
            for (PrecheckRecord r : records) {
                boolean failed = r.newState() == DomainState.QUARANTINED;
                ps.setString(1, r.newState().wire());
                ps.setString(2, r.reasonCode().orElse(null));
                ps.setString(3, r.reasonCode().isPresent() ? r.detail() : null);
                if (r.nextAttempt().isPresent()) {
                    ps.setTimestamp(4, Timestamp.from(r.nextAttempt().get()));
                } else {
                    ps.setNull(4, Types.TIMESTAMP_WITH_TIMEZONE);
                }
                ps.setTimestamp(5, Timestamp.from(now));
                ps.setBoolean(6, failed);
                ps.setLong(7, r.domainId());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
