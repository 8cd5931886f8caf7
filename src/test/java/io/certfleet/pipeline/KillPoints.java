package io.certfleet.pipeline;

import io.certfleet.testsupport.acme.BoulderProxy;
import io.certfleet.testsupport.acme.BoulderProxy.Endpoint;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

/**
 * The places in a cycle where {@link PipelineCrashPointsIT} kills the daemon, each recognised from outside the
 * process: from the database (states the running child wrote), from the CA proxies (an answer held back after
 * the CA acted) or from PostgreSQL's lock table (a transaction waiting inside).
 */
final class KillPoints {
    /** The key of the advisory lock admission holds ({@code Store.exclusively("certfleet-admission")}). */
    private static final long ADMISSION_LOCK = "certfleet-admission".hashCode() * 2654435761L;

    private final PipelineHarness h;
    private final CertificateLock certificateLock;
    private final List<KillPoint> points = new ArrayList<>();

    /** A condition on the database (and the proxies) at a moment, given when the running child started. */
    interface Probe {
        boolean test(Timestamp childStart) throws SQLException;
    }

    /** One place: {@code reached} is polled while a child runs; {@code confirmed} tells, after the kill, it died there. */
    static final class KillPoint {
        final String name;
        final Probe reached;
        final Probe confirmed;
        /** The kill comes a random 0 to this many ms after the point is seen (to land inside a span, not at its start). */
        final int maxDelayMs;
        private final BoulderProxy proxy;
        private final Endpoint endpoint;
        private BoulderProxy.Hold hold;
        /** The number of the kill that hit this point, 0 while none has. */
        int hitBy;

        private KillPoint(String name, Probe reached, Probe confirmed, int maxDelayMs) {
            this.name = name;
            this.reached = reached;
            this.confirmed = confirmed;
            this.maxDelayMs = maxDelayMs;
            this.proxy = null;
            this.endpoint = null;
        }

        /** A point reached when {@code proxy} holds back the CA's answer to an accepted {@code endpoint} request. */
        private KillPoint(String name, BoulderProxy proxy, Endpoint endpoint) {
            this.name = name;
            this.proxy = proxy;
            this.endpoint = endpoint;
            this.hold = proxy.holdAnswer(endpoint);
            this.reached = t -> hold.isHolding();
            this.confirmed = t -> hold.isHolding();
            this.maxDelayMs = 0;
        }

        boolean hit() {
            return hitBy > 0;
        }
    }

    KillPoints(PipelineHarness h) throws SQLException {
        this.h = h;
        this.certificateLock = new CertificateLock();
        // answers held back by the proxies: the CA has acted, the client does not know it yet
        points.add(new KillPoint("staging new-order created at the CA, answer not received", h.staging,
                Endpoint.NEW_ORDER));
        points.add(new KillPoint("staging challenge triggered, answer not received", h.staging, Endpoint.CHALLENGE));
        points.add(new KillPoint("production new-order created at the CA, answer not received", h.production,
                Endpoint.NEW_ORDER));
        points.add(new KillPoint("production finalize accepted by the CA, answer not received", h.production,
                Endpoint.FINALIZE));
        // inside the certificate's transaction: its INSERT waits for a lock the test holds
        points.add(new KillPoint(CertificateLock.POINT, t -> certificateLock.childWaits(),
                t -> certificateLock.childWaits() && count("SELECT count(*) FROM certificate") == 0, 0));
        // states the running child wrote
        points.add(new KillPoint("pre-check running (admission lock held, nothing recorded)",
                t -> count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                        + " AND classid::bigint = ? AND objid::bigint = ?", ADMISSION_LOCK >>> 32,
                        ADMISSION_LOCK & 0xffffffffL) > 0 && count("SELECT count(*) FROM batch") == 0,
                t -> count("SELECT count(*) FROM batch") == 0
                        && count("SELECT count(*) FROM precheck_run WHERE started_at > ?", t) == 0, 400));
        points.add(batchIn("staging authorizations pending", "staging", "state = 'authorizing'", 200));
        points.add(batchIn("isolation: names blamed, the rest re-planned", "staging", "state = 'planned'"
                + " AND parent_id IN (SELECT id FROM batch WHERE error_type = 'BLAMED')", 0));
        points.add(batchIn("between staging and production (production batch planned)", "production",
                "state = 'planned'", 0));
        points.add(batchIn("production authorizations", "production", "state IN ('ordered', 'authorizing')", 100));
        points.add(batchIn("production finalizing (certificate not stored yet)", "production",
                "state = 'finalizing'", 0));
    }

    List<KillPoint> all() {
        return points;
    }

    /** The first point not hit yet that the running child has reached, if any. */
    KillPoint reached(Timestamp childStart) throws SQLException {
        for (KillPoint k : points) {
            if (!k.hit() && k.reached.test(childStart)) {
                return k;
            }
        }
        return null;
    }

    /**
     * After a kill: records whether {@code trigger} was really hit, lets the held answers go to the dead child, sets
     * again the holds it took that were not the point of this kill, and lifts the certificate lock once its point
     * is hit.
     *
     * @return whether the child died at {@code trigger}
     */
    boolean killed(KillPoint trigger, int kill, Timestamp childStart) throws SQLException {
        boolean confirmed = trigger.confirmed.test(childStart);
        if (confirmed) {
            trigger.hitBy = kill;
        }
        for (KillPoint k : points) {
            if (k.hold != null && k.hold.isTaken()) {
                k.hold.release();
                if (!k.hit()) {
                    k.hold = k.proxy.holdAnswer(k.endpoint); // it caught the dead child's request: set it again
                }
            }
        }
        if (trigger.name.equals(CertificateLock.POINT) && confirmed) {
            certificateLock.release();
        }
        return confirmed;
    }

    /** Lets everything go (the end of the test, or a failure). */
    void releaseAll() throws SQLException {
        certificateLock.release();
        points.stream().filter(k -> k.hold != null).forEach(k -> k.hold.release());
    }

    /** A batch of {@code env} in a state the running child wrote ({@code updated_at} after its start). */
    private KillPoint batchIn(String name, String env, String where, int maxDelayMs) {
        String sql = "SELECT count(*) FROM batch WHERE environment = '" + env + "' AND " + where + " AND updated_at > ?";
        return new KillPoint(name, t -> count(sql, t) > 0, t -> count(sql, t) > 0, maxDelayMs);
    }

    long count(String sql, Object... params) throws SQLException {
        try (Connection c = h.db.database.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    Timestamp dbNow() throws SQLException {
        try (Connection c = h.db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getTimestamp(1);
        }
    }

    /**
     * {@code LOCK TABLE certificate IN SHARE MODE} in an open transaction of the test (taken before any certificate
     * exists): a child's certificate INSERT waits for it inside its transaction until the test kills the child and
     * rolls back.
     */
    private final class CertificateLock {
        static final String POINT = "certificate row being written (its transaction open)";
        private final Connection c;

        CertificateLock() throws SQLException {
            c = h.db.database.dataSource().getConnection();
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("LOCK TABLE certificate IN SHARE MODE");
            }
        }

        boolean childWaits() throws SQLException {
            return !c.isClosed() && count("SELECT count(*) FROM pg_locks l JOIN pg_class r ON r.oid = l.relation"
                    + " WHERE r.relname = 'certificate' AND NOT l.granted") > 0;
        }

        void release() throws SQLException {
            if (!c.isClosed()) {
                c.rollback();
                c.setAutoCommit(true);
                c.close();
            }
        }
    }
}
