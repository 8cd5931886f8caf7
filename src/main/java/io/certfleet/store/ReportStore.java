package io.certfleet.store;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainState;
import io.certfleet.model.FleetReport;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Figures for a run's summary and for {@code certfleet report}, read back from the database (so a resumed run
 * reports what really happened).
 */
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
        return store.inTransaction(s -> s.doReturningWork(c -> runStats(c, since)));
    }

    private static RunStats runStats(Connection c, Instant since) throws SQLException {
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
    }

    private static Map<String, Long> byReason(Connection c, String state, Instant since) throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        for (var e : Jdbc.query(c, """
                SELECT coalesce(reason_code, '-'), count(*) FROM domain WHERE state = ? AND updated_at >= ?
                GROUP BY 1 ORDER BY 2 DESC, 1""", rs -> Map.entry(rs.getString(1), rs.getLong(2)), state, since)) {
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    /** What {@link #fleetReport} shows and how much of it. */
    public record ReportScope(Duration history, int maxSamples, int expiryWeeks, Duration expiredShown, int topReasons) {
    }

    /** The data of {@code certfleet report}, in one read-only transaction; the last history sample is the fleet now. */
    public FleetReport fleetReport(ReportScope scope) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Instant now = Jdbc.query(c, "SELECT now()", rs -> rs.getTimestamp(1).toInstant()).get(0);
            Optional<FleetReport.LastRun> last = lastRun(c, now);
            List<FleetReport.Sample> history = history(c, now.minus(scope.history()), scope.maxSamples());
            history.add(sample(now, Jdbc.query(c, "SELECT state, reason_code, count(*) FROM domain GROUP BY 1, 2",
                    ReportStore::historyRow)));
            return new FleetReport(now, last, history, expiry(c, now, scope), heldBack(c, scope.topReasons()));
        }));
    }

    private Optional<FleetReport.LastRun> lastRun(Connection c, Instant now) throws SQLException {
        record Run(String kind, String node, Instant started, Optional<Instant> ended) {
        }
        List<Run> runs = Jdbc.query(c, "SELECT kind, node, started_at, ended_at FROM issuance_run"
                        + " ORDER BY started_at DESC, id DESC LIMIT 1", rs -> new Run(rs.getString(1), rs.getString(2),
                        rs.getTimestamp(3).toInstant(), Jdbc.instant(rs, "ended_at")));
        if (runs.isEmpty()) {
            return Optional.empty();
        }
        Run r = runs.get(0);
        Instant since = r.started();
        long due = Jdbc.query(c, "SELECT coalesce(sum(names_total), 0) FROM precheck_run WHERE started_at >= ?",
                rs -> rs.getLong(1), since).get(0);
        // admission records the names it did not pre-check under these two reason codes (docs/admin-queries.md)
        long[] checkedFresh = Jdbc.query(c, """
                SELECT count(*) FILTER (WHERE p.reason NOT IN ('SKIPPED_FRESH', 'NEEDS_DNS01')),
                       count(*) FILTER (WHERE p.reason = 'SKIPPED_FRESH')
                FROM precheck_result p JOIN precheck_run r ON r.id = p.run_id WHERE r.started_at >= ?""",
                rs -> new long[]{rs.getLong(1), rs.getLong(2)}, since).get(0);
        Map<CaEnvironment, Long> ordered = new EnumMap<>(CaEnvironment.class);
        Jdbc.query(c, """
                SELECT b.environment, count(DISTINCT m.domain_id) FROM batch b JOIN batch_member m ON m.batch_id = b.id
                WHERE b.created_at >= ? AND b.order_url IS NOT NULL GROUP BY 1""",
                rs -> ordered.put(CaEnvironment.fromWire(rs.getString(1)), rs.getLong(2)), since);
        RunStats st = runStats(c, since);
        Map<CaEnvironment, Long> orders = Map.of(CaEnvironment.STAGING, st.stagingOrders(),
                CaEnvironment.PRODUCTION, st.productionOrders());
        long quarantined = st.quarantinedByReason().values().stream().mapToLong(Long::longValue).sum();
        long held = st.heldByReason().values().stream().mapToLong(Long::longValue).sum();
        return Optional.of(new FleetReport.LastRun(r.kind(), r.node(), since, r.ended(), now, due, checkedFresh[0],
                checkedFresh[1], ordered, orders, st.namesIssued(), st.certificates(), quarantined, held,
                st.openBatches()));
    }

    private record HistoryRow(String state, String reason, long count) {
    }

    private static HistoryRow historyRow(java.sql.ResultSet rs) throws SQLException {
        return new HistoryRow(rs.getString(1), rs.getString(2), rs.getLong(3));
    }

    /** Samples since {@code from}, thinned to at most {@code max}: the last sample of each equal slice of time. */
    private static List<FleetReport.Sample> history(Connection c, Instant from, int max) throws SQLException {
        List<Instant> times = Jdbc.query(c, "SELECT DISTINCT taken_at FROM fleet_history WHERE taken_at >= ? ORDER BY 1",
                rs -> rs.getTimestamp(1).toInstant(), from);
        List<Instant> kept = thin(times, max);
        Map<Instant, List<HistoryRow>> rows = new LinkedHashMap<>();
        kept.forEach(t -> rows.put(t, new ArrayList<>()));
        if (!kept.isEmpty()) {
            Jdbc.query(c, "SELECT taken_at, state, reason, count FROM fleet_history WHERE taken_at = ANY(?::timestamptz[])",
                    rs -> rows.get(rs.getTimestamp(1).toInstant()).add(new HistoryRow(rs.getString(2),
                            rs.getString(3), rs.getLong(4))),
                    Jdbc.TextArray.of(kept.stream().map(Instant::toString).toList()));
        }
        List<FleetReport.Sample> out = new ArrayList<>();
        rows.forEach((t, r) -> out.add(sample(t, r)));
        return out;
    }

    /** Keeps the last instant of each of {@code max} equal slices between the first and the last (all if few). */
    static List<Instant> thin(List<Instant> times, int max) {
        if (times.size() <= max) {
            return times;
        }
        Instant first = times.get(0);
        long span = Math.max(1, Duration.between(first, times.get(times.size() - 1)).toMillis());
        Map<Long, Instant> lastOfSlice = new LinkedHashMap<>();
        for (Instant t : times) {
            long slice = Math.min(max - 1, Duration.between(first, t).toMillis() * max / span);
            lastOfSlice.put(slice, t);
        }
        return new ArrayList<>(lastOfSlice.values());
    }

    private static FleetReport.Sample sample(Instant at, List<HistoryRow> rows) {
        Map<DomainState, Long> byState = new EnumMap<>(DomainState.class);
        for (DomainState st : DomainState.values()) {
            byState.put(st, 0L);
        }
        Map<String, Long> byReason = new HashMap<>();
        for (HistoryRow r : rows) {
            DomainState st = DomainState.fromWire(r.state());
            byState.merge(st, r.count(), Long::sum);
            if (st == DomainState.HELD || st == DomainState.QUARANTINED) {
                byReason.merge(r.reason() == null ? "-" : r.reason(), r.count(), Long::sum);
            }
        }
        return new FleetReport.Sample(at, byState, byReason);
    }

    private static List<FleetReport.ExpiryWeek> expiry(Connection c, Instant now, ReportScope scope)
            throws SQLException {
        int weeks = scope.expiryWeeks();
        Map<Integer, long[]> counts = new HashMap<>();
        Jdbc.query(c, """
                SELECT CASE WHEN not_after <= ?::timestamptz THEN -1
                            ELSE least(floor(extract(epoch FROM not_after - ?::timestamptz) / 604800)::integer, ?) END,
                       count(*), sum(cardinality(names))
                FROM certificate
                WHERE environment = 'production' AND replaced_by_id IS NULL AND not_after > ?
                GROUP BY 1""", rs -> counts.put(rs.getInt(1), new long[]{rs.getLong(2), rs.getLong(3)}),
                now, now, weeks - 1, now.minus(scope.expiredShown()));
        List<FleetReport.ExpiryWeek> out = new ArrayList<>();
        for (int w = -1; w < weeks; w++) {
            long[] v = counts.getOrDefault(w, new long[2]);
            out.add(new FleetReport.ExpiryWeek(w, v[0], v[1]));
        }
        return out;
    }

    private static List<FleetReport.HeldBack> heldBack(Connection c, int top) throws SQLException {
        return Jdbc.query(c, """
                WITH top AS (
                    SELECT state, reason_code, count(*) AS n FROM domain WHERE state IN ('held', 'quarantined')
                    GROUP BY 1, 2 ORDER BY 3 DESC, 2 LIMIT ?)
                SELECT t.state, coalesce(t.reason_code, '-'), t.n, e.identifier, e.reason_detail
                FROM top t
                LEFT JOIN LATERAL (
                    SELECT d.identifier, d.reason_detail FROM domain d
                    WHERE d.state = t.state AND d.reason_code IS NOT DISTINCT FROM t.reason_code
                    ORDER BY d.updated_at DESC, d.id LIMIT 1) e ON true
                ORDER BY t.n DESC, 2""", rs -> new FleetReport.HeldBack(DomainState.fromWire(rs.getString(1)),
                rs.getString(2), rs.getLong(3), rs.getString(4), Optional.ofNullable(rs.getString(5))), top);
    }
}
