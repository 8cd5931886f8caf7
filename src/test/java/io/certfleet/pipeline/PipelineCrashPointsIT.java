package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.store.BatchStore;
import io.certfleet.testsupport.ChildJvm;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.acme.BoulderProxy;
import io.certfleet.testsupport.acme.BoulderProxy.Endpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 1 of issue 6 (crash anywhere): one cycle of 500 names, {@code run --once} in a child JVM, killed with
 * SIGKILL at a dozen places recognised from the database, the CA proxies and PostgreSQL's lock table (pre-check,
 * a staging new-order the CA has created but whose answer has not arrived, staging challenges being triggered,
 * staging authorizations pending, staging finalize, isolation of a failed batch, between staging and production,
 * a production new-order in flight, production authorizations, a production finalize the CA has accepted,
 * production finalizing, the certificate row being written) and started again after each kill until the cycle
 * finishes. Then: every good name is in exactly one production certificate, every bad name is quarantined for
 * its own fault, no name or batch is left in a non-final state, every production order Pebble created is bound
 * to a batch, and Pebble issued exactly one certificate per stored certificate.
 *
 * <p>Both proxies answer like Boulder when a new-order repeats an account's pending order (order reuse,
 * le-behaviour.md §4): that is what binds the order of a new-order whose answer died with the process.
 */
@Tag("slow")
class PipelineCrashPointsIT {
    private static final int NAMES = Integer.getInteger("crash.names", 500);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long ADMISSION_LOCK = "certfleet-admission".hashCode() * 2654435761L;
    private static PipelineHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new PipelineHarness();
        h.db.clean();
        h.staging.reuseOrders();
        h.production.reuseOrders();
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.staging.clearRules();
            h.production.clearRules();
            h.close();
        }
    }

    /** Where a kill can land; {@code reached} is polled while the child runs, {@code confirmed} after the kill. */
    private interface Probe {
        boolean test(Timestamp childStart) throws SQLException;
    }

    private static final class KillPoint {
        final String name;
        final Probe reached;
        final Probe confirmed;
        final int maxDelayMs;
        BoulderProxy.Hold hold;
        final Runnable rearm;
        int hitAtKill;

        KillPoint(String name, Probe reached, Probe confirmed, int maxDelayMs) {
            this.name = name;
            this.reached = reached;
            this.confirmed = confirmed;
            this.maxDelayMs = maxDelayMs;
            this.rearm = null;
        }

        /** A point reached when the proxy holds back the CA's answer to an accepted request. */
        KillPoint(String name, BoulderProxy proxy, Endpoint endpoint) {
            this.name = name;
            this.hold = proxy.holdAnswer(endpoint);
            this.rearm = () -> hold = proxy.holdAnswer(endpoint);
            this.reached = t -> hold.isHolding();
            this.confirmed = t -> hold.isHolding();
            this.maxDelayMs = 0;
        }
    }

    @Test
    void aCycleKilledAtADozenPointsIssuesEveryGoodNameExactlyOnce() throws Exception {
        long seed = Long.getLong("crash.seed", System.nanoTime());
        Random random = new Random(seed);
        Set<String> forbid = new TreeSet<>();
        Set<String> servfail = new TreeSet<>();
        Set<String> unreachable = new TreeSet<>();
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < NAMES; i++) {
            int customer = i / 10;
            String name = String.format("p%03d.c%02d.crashpoints.example", i, customer);
            lines.append(name).append(",customer").append(customer).append('\n');
            if (customer == NAMES / 10 - 1 && i % 10 < 5) {
                forbid.add(name);
            } else if (customer == NAMES / 10 - 2 && i % 10 < 3) {
                servfail.add(name);
            } else if (customer == 12 && i % 10 < 2) {
                unreachable.add(name);
            }
        }
        forbid.forEach(n -> h.pebbles.addCaa(n, "issue", "other-ca.example"));
        servfail.forEach(h.pebbles::setServfail);
        unreachable.forEach(n -> h.pebbles.addA(n, "127.0.0.2")); // nothing answers there: validation fails
        int bad = forbid.size() + servfail.size() + unreachable.size();
        Path logs = Files.createDirectories(Path.of("target", "pipeline-crash-points"));
        Path archive = logs.resolve("certfleet.jsa");
        Files.deleteIfExists(archive);
        // a first, uneventful run creates the ACME accounts and, from the packaged jar, a class-data archive that
        // every later child maps (each restart costs seconds of class loading otherwise)
        ChildJvm warmUp = child();
        boolean packaged = warmUp.packagedJarIfFresh();
        packaged &= Boolean.parseBoolean(System.getProperty("crash.cds", "true"));
        if (packaged) {
            warmUp.jvm("-XX:ArchiveClassesAtExit=" + archive.toAbsolutePath());
        }
        double cpu0 = treeCpuSeconds();
        long w0 = System.nanoTime();
        ChildJvm.Result warm = warmUp.run(Duration.ofMinutes(2));
        Files.writeString(logs.resolve("warm-up.log"), warm.err());
        assertThat(warm.exitCode()).as("the warm-up run, with nothing to do: %s", warm.err()).isZero();
        System.out.printf("PipelineCrashPointsIT: warm-up run %d ms (%s)%n", (System.nanoTime() - w0) / 1_000_000,
                packaged && Files.exists(archive) ? "packaged jar, class-data archive written" : "test class path");
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(lines.toString().getBytes(StandardCharsets.UTF_8)),
                "import", "-").exitCode()).isZero();
        h.staging.resetCounts();
        h.production.resetCounts();

        CertificateLock certificateLock = new CertificateLock();
        List<KillPoint> points = killPoints(certificateLock);
        List<String> kills = new ArrayList<>();
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.MINUTES.toNanos(8);
        ChildJvm.Result last = null;
        int children = 0;
        try {
            while (last == null) {
                assertThat(System.nanoTime()).as("the cycle did not finish in 8 minutes; kills: %s", kills)
                        .isLessThan(deadline);
                Timestamp childStart = dbNow();
                ChildJvm child = child();
                if (packaged && child.packagedJarIfFresh() && Files.exists(archive)) {
                    child.jvm("-XX:SharedArchiveFile=" + archive.toAbsolutePath());
                }
                Process p = child.start();
                children++;
                KillPoint trigger = null;
                while (p.isAlive() && trigger == null) {
                    assertThat(System.nanoTime()).as("child %d did not end; kills so far: %s", children, kills)
                            .isLessThan(deadline);
                    for (KillPoint k : points) {
                        if (k.hitAtKill == 0 && k.reached.test(childStart)) {
                            trigger = k;
                            break;
                        }
                    }
                    if (trigger == null) {
                        Thread.sleep(10);
                    }
                }
                if (trigger == null) {
                    last = child.finish(p); // the cycle ended by itself
                    Files.writeString(logs.resolve("child-" + children + ".log"), last.err());
                    break;
                }
                if (trigger.maxDelayMs > 0) {
                    Thread.sleep(random.nextInt(trigger.maxDelayMs + 1));
                }
                p.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
                long at = (System.nanoTime() - t0) / 1_000_000;
                boolean confirmed = trigger.confirmed.test(childStart);
                if (confirmed) {
                    trigger.hitAtKill = kills.size() + 1;
                }
                kills.add(String.format("%s%s at %.1f s (child %d)", trigger.name, confirmed ? "" : " [missed: moved on]",
                        at / 1000.0, children));
                // the dead child's held answers go nowhere; holds it took without being the trigger are set again
                for (KillPoint k : points) {
                    if (k.hold != null && k.hold.isHolding()) {
                        k.hold.release();
                        if (k != trigger || !confirmed) {
                            k.rearm.run();
                        }
                    }
                }
                if (trigger.name.equals(CertificateLock.POINT)) {
                    certificateLock.release();
                }
                Files.writeString(logs.resolve("child-" + children + ".log"), child.finish(p).err());
            }
        } finally {
            certificateLock.release();
            points.stream().filter(k -> k.hold != null).forEach(k -> k.hold.release());
        }
        long wallMs = (System.nanoTime() - t0) / 1_000_000;
        double cpu = treeCpuSeconds() - cpu0;
        System.out.printf("PipelineCrashPointsIT: warm-up, import and cycle used %.0f s of CPU (this JVM, the children,"
                + " Pebbles, PostgreSQL): at least %.0f s on 2 idle cores; measured wall %d ms%n", cpu, cpu / 2,
                (System.nanoTime() - w0) / 1_000_000);
        System.out.printf("PipelineCrashPointsIT (seed %d): %d names, %d bad; %d kills, %d distinct points hit, %d "
                        + "children, cycle finished in %d ms wall%n", seed, NAMES, bad, kills.size(),
                points.stream().filter(k -> k.hitAtKill > 0).count(), children, wallMs);
        kills.forEach(k -> System.out.println("  kill " + k));
        points.stream().filter(k -> k.hitAtKill == 0).forEach(k -> System.out.println("  not hit: " + k.name));

        try {
            verify(last, forbid, servfail, unreachable, points, kills);
        } catch (AssertionError e) {
            dump();
            throw e;
        }
    }

    private static void verify(ChildJvm.Result last, Set<String> forbid, Set<String> servfail, Set<String> unreachable,
                               List<KillPoint> points, List<String> kills) throws Exception {
        int bad = forbid.size() + servfail.size() + unreachable.size();
        assertThat(last.exitCode()).as("the last run's exit code (1: names quarantined); stderr:%n%s", tail(last.err()))
                .isIn(0, 1);
        JsonNode summary = JSON.readTree(last.out());
        assertThat(summary.get("finished").asBoolean()).as("the last run finished the cycle").isTrue();
        List<String> hit = points.stream().filter(k -> k.hitAtKill > 0).map(k -> k.name).toList();

        // every good name in exactly one production certificate; every bad one quarantined for its own fault
        assertThat(h.countBy("SELECT state, count(*) FROM domain WHERE state NOT IN ('issued', 'quarantined') GROUP BY 1"))
                .as("names left in a non-final state").isEmpty();
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(NAMES - bad);
        assertThat(h.countBy("SELECT reason_code, count(*) FROM domain WHERE state = 'quarantined' GROUP BY 1"))
                .isEqualTo(Map.of("CAA_FORBIDS", (long) forbid.size(), "DNS_SERVFAIL", (long) servfail.size(),
                        "CA_CONNECTION", (long) unreachable.size()));
        assertThat(h.count("SELECT count(*) FROM (SELECT domain_id FROM certificate_name GROUP BY 1 HAVING count(*) > 1) x"))
                .as("names in more than one certificate").isZero();
        assertThat(h.count("SELECT count(*) FROM certificate_name cn JOIN certificate c ON c.id = cn.certificate_id"
                + " JOIN domain d ON d.id = cn.domain_id WHERE c.environment = 'production' AND d.state = 'issued'"))
                .isEqualTo(NAMES - bad);
        assertThat(h.count("SELECT count(*) FROM certificate_name")).isEqualTo(NAMES - bad);

        // no batch left open; every production batch became exactly one certificate
        assertThat(h.countBy("SELECT state, count(*) FROM batch WHERE state IN ('planned','ordered','authorizing',"
                + "'finalizing') GROUP BY 1")).as("open batches").isEmpty();
        // a production batch either became a certificate, or lost its order to a kill while the CA validated (an
        // invalid authorization cannot be retried: its names went on in a new order, nobody was quarantined)
        assertThat(h.countBy("SELECT state || ' ' || coalesce(error_type, ''), count(*) FROM batch"
                + " WHERE environment = 'production' GROUP BY 1").keySet()).as("production batch states")
                .contains("issued ").isSubsetOf("issued ", "failed " + BatchStore.RETRIED);
        long certificates = h.count("SELECT count(*) FROM certificate WHERE environment = 'production'");
        long lostToKills = h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND state = 'failed'");
        assertThat(h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND state = 'issued'"))
                .isEqualTo(certificates);
        assertThat(h.count("SELECT count(DISTINCT batch_id) FROM certificate")).isEqualTo(certificates);

        // every order Pebble created is bound to a batch (no orphan), one per certificate; one issuance each
        Map<String, Set<String>> unbound = new LinkedHashMap<>();
        for (String env : List.of("staging", "production")) {
            Set<String> bound = new HashSet<>();
            h.countBy("SELECT order_url, 1 FROM batch WHERE environment = '" + env + "' AND order_url IS NOT NULL")
                    .keySet().forEach(u -> bound.add(u.substring(u.lastIndexOf('/') + 1)));
            Set<String> orphans = new TreeSet<>(h.pebbles.orderIdsCreated(env));
            orphans.removeAll(bound);
            unbound.put(env, orphans);
        }
        List<String> productionOrders = h.pebbles.orderIdsCreated("production");
        System.out.printf("  orders created at Pebble: %d staging, %d production (%d lost to a kill during validation;"
                        + " %d and %d new-orders answered by order reuse); certificates issued by Pebble: %d; stored: %d;"
                        + " unbound orders: %s; names retried after a kill (%s): %d%n",
                h.pebbles.orderIdsCreated("staging").size(), productionOrders.size(), lostToKills,
                h.staging.reusedOrders(), h.production.reusedOrders(), h.production.succeededCount(Endpoint.FINALIZE),
                certificates, unbound, BatchStore.RETRIED,
                h.count("SELECT count(*) FROM batch_member WHERE outcome = '" + BatchStore.RETRIED + "'"));
        assertThat(unbound.get("production")).as("production orders at the CA bound to no batch").isEmpty();
        assertThat(productionOrders).as("one production order per certificate, and one per order lost to a kill")
                .hasSize((int) (certificates + lostToKills));
        assertThat(h.production.succeededCount(Endpoint.FINALIZE)).as("certificates Pebble issued")
                .isEqualTo((int) certificates);
        assertThat(unbound.get("staging")).as("staging orders at the CA bound to no batch").isEmpty();

        assertThat(hit).as("distinct kill points hit: %s", kills).hasSizeGreaterThanOrEqualTo(8);
    }

    /** A {@code run --once} child; its JVM options can be changed for experiments with {@code -Dcrash.jvm}. */
    private static ChildJvm child() {
        // short-lived JVMs: the serial collector and C1 only start faster (each restart costs seconds)
        String options = System.getProperty("crash.jvm", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
        return ChildJvm.of(Map.of()).jvm(options.isBlank() ? new String[0] : options.trim().split("\\s+"))
                .overrides(h.overrides()).args("run", "--once", "--format", "json");
    }

    /** What the database holds, for a failure's diagnosis. */
    private static void dump() throws SQLException {
        System.out.println("names not issued: " + h.countBy("SELECT name || ' ' || state || ' ' || coalesce(reason_code, '')"
                + " || ' ' || coalesce(reason_detail, ''), id FROM domain WHERE state <> 'issued' ORDER BY name"));
        h.countBy("SELECT id || ' ' || environment || ' parent=' || coalesce(parent_id::text, '-') || ' ' || state || ' '"
                + " || coalesce(error_type, '') || ' ' || coalesce(order_url, '') || ' members='"
                + " || (SELECT count(*) FROM batch_member m WHERE m.batch_id = b.id), id FROM batch b ORDER BY id")
                .keySet().forEach(b -> System.out.println("  batch " + b));
    }

    private List<KillPoint> killPoints(CertificateLock lock) {
        List<KillPoint> p = new ArrayList<>();
        // answers held back by the proxies: the CA has acted, the client does not know yet
        p.add(new KillPoint("staging new-order created at the CA, answer not received", h.staging, Endpoint.NEW_ORDER));
        p.add(new KillPoint("staging challenge triggered, answer not received", h.staging, Endpoint.CHALLENGE));
        p.add(new KillPoint("production new-order created at the CA, answer not received", h.production,
                Endpoint.NEW_ORDER));
        p.add(new KillPoint("production finalize accepted by the CA, answer not received", h.production,
                Endpoint.FINALIZE));
        // in the middle of the certificate's transaction (its INSERT waits for a lock the test holds)
        p.add(new KillPoint(CertificateLock.POINT, t -> lock.childWaits(), t -> lock.childWaits()
                && count("SELECT count(*) FROM certificate") == lock.certificatesBefore, 0));
        // states recognised from the database, written by the running child
        p.add(new KillPoint("pre-check running (admission lock held, nothing recorded)",
                t -> count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                        + " AND classid::bigint = ? AND objid::bigint = ?", ADMISSION_LOCK >>> 32,
                        ADMISSION_LOCK & 0xffffffffL) > 0 && count("SELECT count(*) FROM batch") == 0,
                t -> count("SELECT count(*) FROM batch") == 0
                        && count("SELECT count(*) FROM precheck_run WHERE started_at > ?", t) == 0, 400));
        p.add(batchIn("staging authorizations pending", "staging", "state = 'authorizing'", 200));
        p.add(batchIn("isolation: names blamed, the rest re-planned", "staging", "state = 'planned'"
                + " AND parent_id IN (SELECT id FROM batch WHERE error_type = 'BLAMED')", 0));
        p.add(batchIn("between staging and production (production batch planned)", "production",
                "state = 'planned'", 0));
        p.add(batchIn("production authorizations", "production", "state IN ('ordered', 'authorizing')", 100));
        p.add(batchIn("production finalizing (certificate not stored yet)", "production", "state = 'finalizing'", 0));
        return p;
    }

    /** A batch of {@code env} in a state this child wrote ({@code updated_at} after its start). */
    private static KillPoint batchIn(String name, String env, String where, int maxDelayMs) {
        String sql = "SELECT count(*) FROM batch WHERE environment = '" + env + "' AND " + where + " AND updated_at > ?";
        return new KillPoint(name, t -> count(sql, t) > 0, t -> count(sql, t) > 0, maxDelayMs);
    }

    /**
     * {@code LOCK TABLE certificate IN SHARE MODE} in an open transaction of the test: a child's certificate INSERT
     * waits for it, inside its transaction, until the test kills the child and rolls back.
     */
    private static final class CertificateLock {
        static final String POINT = "certificate row being written (its transaction open)";
        private final Connection c;
        final long certificatesBefore;

        CertificateLock() throws SQLException {
            certificatesBefore = count("SELECT count(*) FROM certificate");
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

    /**
     * CPU seconds (user + system) used so far by this JVM and every process it started, alive or reaped: what the
     * test costs a machine, whatever else runs on it.
     */
    private static double treeCpuSeconds() throws java.io.IOException {
        long ticks = cpuTicks(ProcessHandle.current().pid());
        for (ProcessHandle d : ProcessHandle.current().descendants().toList()) {
            ticks += cpuTicks(d.pid());
        }
        return ticks / 100.0; // USER_HZ
    }

    private static long cpuTicks(long pid) throws java.io.IOException {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (java.nio.file.NoSuchFileException gone) {
            return 0;
        }
        // after "(comm)": state is field 3; utime, stime, cutime, cstime are fields 14-17
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }

    private static Timestamp dbNow() throws SQLException {
        try (Connection c = h.db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getTimestamp(1);
        }
    }

    private static long count(String sql, Object... params) throws SQLException {
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

    private static String tail(String s) {
        return s.length() < 6000 ? s : s.substring(s.length() - 6000);
    }
}
