package io.certfleet.store;

import io.certfleet.model.BatchState;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainState;
import io.certfleet.model.FleetSnapshot;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
                    AND occurred_at > now() - interval '3 hours' GROUP BY 1""",
                    rs -> orders.put(CaEnvironment.fromWire(rs.getString(1)), rs.getLong(2)));
            return new FleetSnapshot(at, states, reasons, inFlight, requests, precheck, in7, in30, valid, orders);
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
