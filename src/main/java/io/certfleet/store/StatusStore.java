package io.certfleet.store;

import io.certfleet.model.BatchState;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaLimit;
import io.certfleet.model.CaLimitWait;
import io.certfleet.model.DomainState;
import io.certfleet.model.FleetSnapshot;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads a {@link FleetSnapshot} in one read-only transaction (a handful of aggregate queries). */
public final class StatusStore {
    private final Store store;

    public StatusStore(Store store) {
        this.store = store;
    }

    public FleetSnapshot snapshot() {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Instant at = Jdbc.query(c, "SELECT now()", rs -> rs.getTimestamp(1).toInstant()).get(0);
            Map<DomainState, Long> states = new EnumMap<>(DomainState.class);
            for (DomainState st : DomainState.values()) {
                states.put(st, 0L);
            }
            Jdbc.query(c, "SELECT state, count FROM v_state_counts", rs -> states.put(
                    DomainState.fromWire(rs.getString(1)), rs.getLong(2)));
            Map<String, Long> reasons = map(c, """
                    SELECT state || ':' || coalesce(reason_code, '-'), count(*) FROM domain
                    WHERE state IN ('quarantined', 'held') GROUP BY 1 ORDER BY 2 DESC, 1""");
            List<FleetSnapshot.InFlight> inFlight = Jdbc.query(c, """
                    SELECT environment, state, count(*), min(not_before) FROM batch
                    WHERE state IN ('planned', 'ordered', 'authorizing', 'finalizing') GROUP BY 1, 2 ORDER BY 1, 2""",
                    rs -> new FleetSnapshot.InFlight(CaEnvironment.fromWire(rs.getString(1)),
                            BatchState.fromWire(rs.getString(2)), rs.getLong(3), Jdbc.instant(rs, "min")));
            List<FleetSnapshot.Requests> requests = Jdbc.query(c, """
                    SELECT environment, request, outcome, count(*) FROM ca_event
                    WHERE occurred_at > now() - interval '24 hours' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
                    rs -> new FleetSnapshot.Requests(CaEnvironment.fromWire(rs.getString(1)), rs.getString(2),
                            rs.getString(3), rs.getLong(4)));
            Map<String, Long> precheck = map(c, """
                    SELECT verdict || ':' || reason, count(*) FROM precheck_result
                    WHERE checked_at > now() - interval '24 hours' GROUP BY 1 ORDER BY 1""");
            long in7 = count(c, "SELECT count(*) FROM certificate WHERE environment = 'production' AND not_after > now()"
                    + " AND not_after < now() + interval '7 days' AND replaced_by_id IS NULL");
            long in30 = count(c, "SELECT count(*) FROM certificate WHERE environment = 'production' AND not_after > now()"
                    + " AND not_after < now() + interval '30 days' AND replaced_by_id IS NULL");
            long valid = count(c, "SELECT count(*) FROM certificate WHERE environment = 'production' AND not_after > now()");
            Map<CaEnvironment, Long> orders = new EnumMap<>(CaEnvironment.class);
            for (CaEnvironment e : CaEnvironment.values()) {
                orders.put(e, 0L);
            }
            Jdbc.query(c, """
                    SELECT environment, count(*) FROM ca_event WHERE request = 'NEW_ORDER' AND outcome = 'ok'
                    AND NOT limits_exempt AND occurred_at > now() - interval '3 hours' GROUP BY 1""",
                    rs -> orders.put(CaEnvironment.fromWire(rs.getString(1)), rs.getLong(2)));
            return new FleetSnapshot(at, states, reasons, inFlight, requests, precheck, in7, in30, valid, orders);
        }));
    }

    /**
     * How far the fleet is into Let's Encrypt's limits besides the new-order window (see {@link #snapshot()}).
     *
     * @param domainsAtLimit       registered domains with at least the limit of production certificates in 7 days
     * @param mostUsedDomain       the registered domain with the most production certificates in 7 days, and how many
     * @param setsAtLimit          exact sets with at least the limit of production certificates in 7 days
     * @param namesAtFailedLimit   per environment, names whose failed authorizations in the last hour reached the limit
     * @param pauseGuardStopped    names the pause guard stopped ({@code PAUSE_GUARD})
     * @param pausedByCa           names Let's Encrypt paused ({@code CA_PAUSED})
     * @param longestStreak        the most consecutive failed authorizations of any name now
     * @param waits                the CA's 429 waits that have not ended
     */
    public record LimitUse(long domainsAtLimit, Optional<Map.Entry<String, Long>> mostUsedDomain, long setsAtLimit,
                           Map<CaEnvironment, Long> namesAtFailedLimit, long pauseGuardStopped, long pausedByCa,
                           long longestStreak, List<CaLimitWait> waits) {
    }

    public LimitUse limitUse(long certificatesPerDomain, long certificatesPerSet,
                             Map<CaEnvironment, Long> failedAuthorizationsPerHour) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            List<Map.Entry<String, Long>> domains = Jdbc.query(c, """
                    SELECT d.registered_domain, count(DISTINCT x.id) AS n FROM certificate x
                    JOIN certificate_name cn ON cn.certificate_id = x.id JOIN domain d ON d.id = cn.domain_id
                    WHERE x.environment = 'production' AND x.created_at > now() - interval '7 days'
                      AND d.registered_domain IS NOT NULL
                    GROUP BY 1 ORDER BY 2 DESC, 1""", rs -> Map.entry(rs.getString(1), rs.getLong(2)));
            long sets = Jdbc.query(c, """
                    SELECT count(*) FROM (
                        SELECT (SELECT string_agg(n, ',' ORDER BY n COLLATE "C") FROM unnest(x.names) n) AS k
                        FROM certificate x WHERE x.environment = 'production' AND x.created_at > now() - interval '7 days'
                        GROUP BY 1 HAVING count(*) >= ?) s""", rs -> rs.getLong(1), certificatesPerSet).get(0);
            Map<CaEnvironment, Long> failed = new EnumMap<>(CaEnvironment.class);
            for (CaEnvironment env : CaEnvironment.values()) {
                failed.put(env, Jdbc.query(c, """
                        SELECT count(*) FROM (
                            SELECT e.account_id, i FROM ca_event e CROSS JOIN LATERAL unnest(e.identifiers) i
                            WHERE e.environment = ? AND e.request = 'AUTHORIZATION' AND e.outcome = 'invalid'
                              AND e.occurred_at > now() - interval '1 hour'
                            GROUP BY 1, 2 HAVING count(*) >= ?) f""", rs -> rs.getLong(1), env.wire(),
                        failedAuthorizationsPerHour.getOrDefault(env, Long.MAX_VALUE)).get(0));
            }
            Map<String, Long> stopped = map(c, """
                    SELECT reason_code, count(*) FROM domain WHERE state = 'quarantined'
                      AND reason_code IN ('PAUSE_GUARD', 'CA_PAUSED') GROUP BY 1""");
            long streak = count(c, "SELECT coalesce(max(failures), 0) FROM authz_failure_streak");
            List<CaLimitWait> waits = Jdbc.query(c, """
                    SELECT environment, ca_limit, scope, subject, not_before, detail FROM ca_limit_wait
                    WHERE not_before > now() ORDER BY not_before""",
                    rs -> new CaLimitWait(CaEnvironment.fromWire(rs.getString(1)), CaLimit.fromWire(rs.getString(2)),
                            CaLimit.Scope.fromWire(rs.getString(3)), rs.getString(4), rs.getTimestamp(5).toInstant(),
                            rs.getString(6) == null ? "" : rs.getString(6)));
            return new LimitUse(domains.stream().filter(e -> e.getValue() >= certificatesPerDomain).count(),
                    domains.stream().findFirst(), sets, failed, stopped.getOrDefault("PAUSE_GUARD", 0L),
                    stopped.getOrDefault("CA_PAUSED", 0L), streak, waits);
        }));
    }

    private static Map<String, Long> map(Connection c, String sql) throws SQLException {
        Map<String, Long> m = new LinkedHashMap<>();
        Jdbc.query(c, sql, rs -> m.put(rs.getString(1), rs.getLong(2)));
        return m;
    }

    private static long count(Connection c, String sql) throws SQLException {
        return Jdbc.query(c, sql, rs -> rs.getLong(1)).get(0);
    }

    /** True when the database answers a trivial query within the pool's timeout. */
    public boolean databaseUp() {
        try {
            return store.inTransaction(s -> s.doReturningWork(c -> c.isValid(2)));
        } catch (RuntimeException e) {
            return false;
        }
    }
}
