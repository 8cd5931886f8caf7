package io.certfleet.store;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaLimit;
import io.certfleet.model.CaLimitWait;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The CA's 429 waits per scope ({@code ca_limit_wait}) and the consecutive failed authorizations of each name per
 * account ({@code authz_failure_streak}), with the operator's release of stopped names. Every method is one
 * transaction.
 */
public final class LimitStore {
    private final Store store;

    public LimitStore(Store store) {
        this.store = store;
    }

    /**
     * Stores the CA's 429 for a scope (keeping the later time when one is stored already) and, in the same
     * transaction, holds the names of the scope that wait in the queue ({@code pending}, or {@code held} until
     * sooner) until then, so operators see the reason at once. Names in an open batch are the caller's.
     *
     * @return how many queued names were held
     */
    public int recordWait(CaLimitWait w, Optional<Long> accountId, Optional<Long> batchId) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Jdbc.update(c, """
                    INSERT INTO ca_limit_wait (environment, account_id, ca_limit, scope, subject, not_before, detail, batch_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (environment, ca_limit, scope, subject) DO UPDATE SET
                        not_before = GREATEST(ca_limit_wait.not_before, excluded.not_before), detail = excluded.detail,
                        account_id = excluded.account_id, batch_id = excluded.batch_id, created_at = now()""",
                    w.environment().wire(), accountId, w.limit().wire(), w.scope().wire(), w.subject(), w.until(),
                    w.detail(), batchId);
            String where = switch (w.scope()) {
                case NAME -> "d.identifier = ?";
                case REGISTERED_DOMAIN -> "d.registered_domain = ?";
                case ACCOUNT -> null;
            };
            if (where == null) {
                return 0;
            }
            return Jdbc.update(c, """
                    UPDATE domain d SET state = 'held', reason_code = ?, reason_detail = ?, next_attempt_at = ?,
                           updated_at = now()
                    WHERE %s AND (d.state = 'pending' OR d.state = 'held' AND d.next_attempt_at < ?)
                      AND NOT EXISTS (SELECT 1 FROM batch_member m WHERE m.domain_id = d.id AND m.active)""".formatted(where),
                    w.limit().rateLimitedReason(), "Let's Encrypt " + w.environment().wire() + " answered 429 for "
                            + (w.scope() == CaLimit.Scope.NAME ? "this name" : "its registered domain " + w.subject())
                            + " until " + w.until() + ": " + w.detail(),
                    w.until(), w.subject(), w.until());
        }));
    }

    /** The waits that have not ended at {@code now}. */
    public List<CaLimitWait> activeWaits(Instant now) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c, """
                SELECT environment, ca_limit, scope, subject, not_before, detail FROM ca_limit_wait WHERE not_before > ?
                ORDER BY not_before""",
                rs -> new CaLimitWait(CaEnvironment.fromWire(rs.getString(1)), CaLimit.fromWire(rs.getString(2)),
                        CaLimit.Scope.fromWire(rs.getString(3)), rs.getString(4), rs.getTimestamp(5).toInstant(),
                        rs.getString(6) == null ? "" : rs.getString(6)), now)));
    }

    /** Deletes waits that ended before {@code before}; returns how many. */
    public int deleteWaitsEndedBefore(Instant before) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c,
                "DELETE FROM ca_limit_wait WHERE not_before < ?", before)));
    }

    /**
     * Records one failed validation of each name (an {@code AUTHORIZATION invalid} event for the ledger) and adds
     * one to each name's consecutive failures for the account, in one transaction.
     *
     * @param identifiers domain id → identifier of each name whose authorization turned invalid
     * @return domain id → the name's consecutive failures now
     */
    public Map<Long, Integer> recordFailedAuthorizations(CaEnvironment env, long accountId, Optional<Long> batchId,
                                                         Map<Long, String> identifiers, String detail, Instant at) {
        if (identifiers.isEmpty()) {
            return Map.of();
        }
        String d = detail.length() > 2000 ? detail.substring(0, 2000) : detail;
        List<Long> ids = new ArrayList<>(identifiers.keySet());
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Jdbc.update(c, """
                    INSERT INTO ca_event (occurred_at, environment, account_id, batch_id, request, outcome, detail, identifiers)
                    VALUES (?, ?, ?, ?, 'AUTHORIZATION', 'invalid', ?, ?)""", at, env.wire(), accountId, batchId, d,
                    Jdbc.TextArray.of(ids.stream().map(identifiers::get).toList()));
            Map<Long, Integer> out = new HashMap<>();
            Jdbc.query(c, """
                    INSERT INTO authz_failure_streak (domain_id, environment, account_id, failures, first_failed_at,
                                                      last_failed_at, last_detail)
                    SELECT unnest(?::bigint[]), ?, ?, 1, ?, ?, ?
                    ON CONFLICT (domain_id, environment, account_id) DO UPDATE SET
                        failures = authz_failure_streak.failures + 1, last_failed_at = excluded.last_failed_at,
                        last_detail = excluded.last_detail
                    RETURNING domain_id, failures""",
                    rs -> out.put(rs.getLong(1), rs.getInt(2)), Jdbc.LongArray.of(ids), env.wire(), accountId, at, at, d);
            return out;
        }));
    }

    /** The highest consecutive failed authorizations (of any account) of each of {@code identifiers} that has any. */
    public Map<String, Integer> streaks(Collection<String> identifiers) {
        if (identifiers.isEmpty()) {
            return Map.of();
        }
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Map<String, Integer> out = new HashMap<>();
            Jdbc.query(c, """
                    SELECT d.identifier, max(f.failures) FROM authz_failure_streak f JOIN domain d ON d.id = f.domain_id
                    WHERE d.identifier = ANY(?) GROUP BY 1""",
                    rs -> out.put(rs.getString(1), rs.getInt(2)), Jdbc.TextArray.of(identifiers));
            return out;
        }));
    }

    /**
     * Stops names until an operator releases them: {@code quarantined} with the reason, no next attempt. Names in
     * an open batch, issued or removed names are left alone.
     */
    public void stop(Map<Long, String[]> reasonAndDetail) {
        if (reasonAndDetail.isEmpty()) {
            return;
        }
        List<Long> ids = new ArrayList<>(reasonAndDetail.keySet());
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c, """
                UPDATE domain d SET state = 'quarantined', reason_code = h.reason, reason_detail = h.detail,
                       next_attempt_at = NULL, updated_at = now()
                FROM unnest(?::bigint[], ?::text[], ?::text[]) AS h(id, reason, detail)
                WHERE d.id = h.id AND d.state IN ('pending', 'held', 'quarantined')
                  AND NOT EXISTS (SELECT 1 FROM batch_member m WHERE m.domain_id = d.id AND m.active)""",
                Jdbc.LongArray.of(ids), Jdbc.TextArray.of(ids.stream().map(id -> reasonAndDetail.get(id)[0]).toList()),
                Jdbc.TextArray.of(ids.stream().map(id -> reasonAndDetail.get(id)[1]).toList()))));
    }

    /** A released name: its identifier and the reason it had been stopped or held for. */
    public record Released(String identifier, String previousReason) {
    }

    /**
     * An operator's release: quarantined or held names go back to the queue now ({@code pending}, no reason),
     * with their consecutive failed authorizations and quarantine backoff starting again from zero. Names are
     * chosen by identifier, or by reason code (e.g. {@code PAUSE_GUARD}, {@code CA_PAUSED}).
     */
    public List<Released> release(Collection<String> identifiers, Optional<String> reason) {
        return store.inTransaction(s -> s.doReturningWork(c -> release(c, identifiers, reason)));
    }

    private static List<Released> release(Connection c, Collection<String> identifiers, Optional<String> reason)
            throws SQLException {
        List<Long> ids = new ArrayList<>();
        List<Released> out = new ArrayList<>();
        Jdbc.query(c, """
                SELECT id, identifier, reason_code FROM domain
                WHERE state IN ('quarantined', 'held') AND (identifier = ANY(?) OR reason_code = ?)
                ORDER BY identifier FOR UPDATE""", rs -> {
            ids.add(rs.getLong(1));
            out.add(new Released(rs.getString(2), rs.getString(3)));
            return null;
        }, Jdbc.TextArray.of(identifiers), reason.orElse(null));
        if (ids.isEmpty()) {
            return out;
        }
        Jdbc.update(c, """
                UPDATE domain SET state = 'pending', reason_code = NULL, reason_detail = NULL, next_attempt_at = NULL,
                       attempts = 0, updated_at = now() WHERE id = ANY(?)""", Jdbc.LongArray.of(ids));
        Jdbc.update(c, "DELETE FROM authz_failure_streak WHERE domain_id = ANY(?)", Jdbc.LongArray.of(ids));
        return out;
    }
}
