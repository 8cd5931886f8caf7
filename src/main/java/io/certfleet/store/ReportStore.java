package io.certfleet.store;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** Figures for a run's summary, read back from the database (so a resumed run reports what really happened). */
public final class ReportStore {
    private final Store store;

    public ReportStore(Store store) {
        this.store = store;
    }

    /** What happened since {@code since}. */
    public record RunStats(long namesIssued, long certificates, long stagingOrders, long productionOrders,
                           Map<String, Long> quarantinedByReason, Map<String, Long> heldByReason, long pending,
                           long openBatches) {
    }

    public RunStats since(Instant since) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            long names = Jdbc.query(c, """
                    SELECT count(DISTINCT cn.domain_id) FROM certificate_name cn JOIN certificate x ON x.id = cn.certificate_id
                    WHERE x.environment = 'production' AND x.created_at >= ?""", rs -> rs.getLong(1), since).get(0);
            long certs = Jdbc.query(c, "SELECT count(*) FROM certificate WHERE environment = 'production' AND created_at >= ?",
                    rs -> rs.getLong(1), since).get(0);
            Map<String, Long> orders = new LinkedHashMap<>();
            for (var e : Jdbc.query(c, """
                    SELECT environment, count(*) FROM ca_event WHERE request = 'NEW_ORDER' AND outcome = 'ok'
                    AND occurred_at >= ? GROUP BY 1""", rs -> Map.entry(rs.getString(1), rs.getLong(2)), since)) {
                orders.put(e.getKey(), e.getValue());
            }
            Map<String, Long> quarantined = byReason(c, "quarantined", since);
            Map<String, Long> held = byReason(c, "held", since);
            long pending = Jdbc.query(c, "SELECT count(*) FROM domain WHERE state = 'pending'", rs -> rs.getLong(1)).get(0);
            long open = Jdbc.query(c, "SELECT count(*) FROM batch WHERE state IN ('planned','ordered','authorizing','finalizing')",
                    rs -> rs.getLong(1)).get(0);
            return new RunStats(names, certs, orders.getOrDefault("staging", 0L), orders.getOrDefault("production", 0L),
                    quarantined, held, pending, open);
        }));
    }

    private static Map<String, Long> byReason(java.sql.Connection c, String state, Instant since)
            throws java.sql.SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        for (var e : Jdbc.query(c, """
                SELECT coalesce(reason_code, '-'), count(*) FROM domain WHERE state = ? AND updated_at >= ?
                GROUP BY 1 ORDER BY 2 DESC, 1""", rs -> Map.entry(rs.getString(1), rs.getLong(2)), state, since)) {
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }
}
