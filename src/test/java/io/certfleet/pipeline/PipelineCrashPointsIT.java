package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.pipeline.KillPoints.KillPoint;
import io.certfleet.store.BatchStore;
import io.certfleet.testsupport.ChildJvm;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.ProcessTreeCpu;
import io.certfleet.testsupport.acme.BoulderProxy.Endpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 1 of issue 6 (crash anywhere): one cycle of 500 names by {@code run --once} in a child JVM, killed with
 * SIGKILL at 11 points ({@link KillPoints}: pre-check; a staging new-order the CA created whose answer has not
 * arrived; staging challenges being triggered; staging authorizations pending; isolation of a failed batch;
 * between staging and production; a production new-order in flight; production authorizations; a production
 * finalize the CA accepted; production finalizing; inside the certificate's transaction) and started again after
 * each kill until the cycle finishes. Then: every good name is in exactly one production certificate, every bad
 * name is quarantined for its own fault (CAA, SERVFAIL, an unreachable address) and no other, no name or batch is
 * left in a non-final state, every order Pebble created is bound to a batch, and Pebble issued exactly one
 * certificate per stored certificate.
 *
 * <p>Both proxies answer like Boulder when a new-order repeats an account's pending order (order reuse,
 * le-behaviour.md §4): that is what binds the order of a new-order whose answer died with the process.
 * {@code -Dcrash.seed} replays the random delays of a run, {@code -Dcrash.names} changes its size.
 */
@Tag("slow")
class PipelineCrashPointsIT {
    private static final int NAMES = Integer.getInteger("crash.names", 500);
    private static final Path LOGS = Path.of("target", "pipeline-crash-points");
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

    /** The names that must not be issued, by why. */
    private record BadNames(Set<String> forbid, Set<String> servfail, Set<String> unreachable) {
        int size() {
            return forbid.size() + servfail.size() + unreachable.size();
        }
    }

    /** What the kills did: the run that finished the cycle, each kill, how many children ran. */
    private record Cycle(ChildJvm.Result last, List<String> kills, int children, long wallMs) {
    }

    @Test
    void aCycleKilledAtElevenPointsIssuesEveryGoodNameExactlyOnce() throws Exception {
        long seed = Long.getLong("crash.seed", System.nanoTime());
        double cpu0 = ProcessTreeCpu.seconds();
        long t0 = System.nanoTime();
        Launcher launcher = Launcher.warmUp();
        BadNames bad = importNames();
        KillPoints points = new KillPoints(h);
        Cycle cycle;
        try {
            cycle = killAtEachPoint(points, launcher, new Random(seed));
        } finally {
            points.releaseAll();
        }
        double cpu = ProcessTreeCpu.seconds() - cpu0;
        System.out.printf("PipelineCrashPointsIT (seed %d): %d names, %d bad; %d kills, %d distinct points hit, %d "
                        + "children; cycle %d ms; warm-up, import and cycle %d ms wall and %.0f s of CPU (this JVM, the"
                        + " children, Pebbles, PostgreSQL: at least %.0f s on 2 idle cores)%n", seed, NAMES,
                bad.size(), cycle.kills().size(), points.all().stream().filter(KillPoint::hit).count(),
                cycle.children(), cycle.wallMs(), (System.nanoTime() - t0) / 1_000_000, cpu, cpu / 2);
        cycle.kills().forEach(k -> System.out.println("  kill " + k));
        points.all().stream().filter(k -> !k.hit()).forEach(k -> System.out.println("  not hit: " + k.name));
        try {
            verify(cycle, bad);
        } catch (AssertionError e) {
            dump();
            throw e;
        }
        assertThat(points.all().stream().filter(KillPoint::hit).count()).as("distinct kill points hit: %s",
                cycle.kills()).isGreaterThanOrEqualTo(8);
    }

    /** Customers of 10 names; 5 forbid by CAA, 3 answer SERVFAIL, 2 point where nothing answers the CA. */
    private static BadNames importNames() {
        BadNames bad = new BadNames(new TreeSet<>(), new TreeSet<>(), new TreeSet<>());
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < NAMES; i++) {
            int customer = i / 10;
            String name = String.format("p%03d.c%02d.crashpoints.example", i, customer);
            lines.append(name).append(",customer").append(customer).append('\n');
            if (customer == NAMES / 10 - 1 && i % 10 < 5) {
                bad.forbid().add(name);
            } else if (customer == NAMES / 10 - 2 && i % 10 < 3) {
                bad.servfail().add(name);
            } else if (customer == 12 && i % 10 < 2) {
                bad.unreachable().add(name);
            }
        }
        bad.forbid().forEach(n -> h.pebbles.addCaa(n, "issue", "other-ca.example"));
        bad.servfail().forEach(h.pebbles::setServfail);
        bad.unreachable().forEach(n -> h.pebbles.addA(n, "127.0.0.2")); // nothing answers there: validation fails
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(lines.toString().getBytes(StandardCharsets.UTF_8)),
                "import", "-").exitCode()).isZero();
        h.staging.resetCounts();
        h.production.resetCounts();
        return bad;
    }

    /** Starts a child, kills it at the first point not hit yet that it reaches, and again, until one finishes. */
    private static Cycle killAtEachPoint(KillPoints points, Launcher launcher, Random random) throws Exception {
        List<String> kills = new ArrayList<>();
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.MINUTES.toNanos(8);
        for (int children = 1; ; children++) {
            Timestamp childStart = points.dbNow();
            ChildJvm child = launcher.child();
            Process p = child.start();
            KillPoint trigger = null;
            while (p.isAlive() && trigger == null) {
                assertThat(System.nanoTime()).as("the cycle did not finish in 8 minutes; kills: %s", kills)
                        .isLessThan(deadline);
                trigger = points.reached(childStart);
                if (trigger == null) {
                    Thread.sleep(10);
                }
            }
            if (trigger == null) { // the cycle ended by itself
                ChildJvm.Result last = child.finish(p);
                Files.writeString(LOGS.resolve("child-" + children + ".log"), last.err());
                return new Cycle(last, kills, children, (System.nanoTime() - t0) / 1_000_000);
            }
            if (trigger.maxDelayMs > 0) {
                Thread.sleep(random.nextInt(trigger.maxDelayMs + 1));
            }
            p.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            boolean confirmed = points.killed(trigger, kills.size() + 1, childStart);
            kills.add(String.format("%s%s at %.1f s (child %d)", trigger.name, confirmed ? "" : " [missed: moved on]",
                    (System.nanoTime() - t0) / 1e9, children));
            Files.writeString(LOGS.resolve("child-" + children + ".log"), child.finish(p).err());
        }
    }

    private static void verify(Cycle cycle, BadNames bad) throws Exception {
        int good = NAMES - bad.size();
        assertThat(cycle.last().exitCode()).as("the last run's exit code (1: names quarantined); stderr:%n%s",
                tail(cycle.last().err())).isIn(0, 1);
        assertThat(new ObjectMapper().readTree(cycle.last().out()).get("finished").asBoolean())
                .as("the last run finished the cycle").isTrue();

        // every good name in exactly one production certificate; every bad one quarantined for its own fault
        assertThat(h.countBy("SELECT state, count(*) FROM domain WHERE state NOT IN ('issued', 'quarantined') GROUP BY 1"))
                .as("names left in a non-final state").isEmpty();
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'"))
                .as("issued; the quarantined names are: %s", h.countBy("SELECT identifier || ' ' || reason_code || ': '"
                        + " || left(reason_detail, 300), 1 FROM domain WHERE state = 'quarantined'").keySet())
                .isEqualTo(good);
        assertThat(h.countBy("SELECT reason_code, count(*) FROM domain WHERE state = 'quarantined' GROUP BY 1"))
                .isEqualTo(Map.of("CAA_FORBIDS", (long) bad.forbid().size(), "DNS_SERVFAIL",
                        (long) bad.servfail().size(), "CA_CONNECTION", (long) bad.unreachable().size()));
        assertThat(h.count("SELECT count(*) FROM (SELECT domain_id FROM certificate_name GROUP BY 1 HAVING count(*) > 1) x"))
                .as("names in more than one certificate").isZero();
        assertThat(h.count("SELECT count(*) FROM certificate_name cn JOIN certificate c ON c.id = cn.certificate_id"
                + " JOIN domain d ON d.id = cn.domain_id WHERE c.environment = 'production' AND d.state = 'issued'"))
                .isEqualTo(good);
        assertThat(h.count("SELECT count(*) FROM certificate_name")).isEqualTo(good);

        // no batch left open; a production batch became one certificate, or lost its order to a kill while the CA
        // validated (an invalid authorization cannot be retried: its names went on in a new order, unquarantined)
        assertThat(h.countBy("SELECT state, count(*) FROM batch WHERE state IN ('planned', 'ordered', 'authorizing',"
                + " 'finalizing') GROUP BY 1")).as("open batches").isEmpty();
        assertThat(h.countBy("SELECT state || ' ' || coalesce(error_type, ''), count(*) FROM batch"
                + " WHERE environment = 'production' GROUP BY 1").keySet()).as("production batch states")
                .contains("issued ").isSubsetOf("issued ", "failed " + BatchStore.RETRIED);
        long certificates = h.count("SELECT count(*) FROM certificate WHERE environment = 'production'");
        long lostToKills = h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND state = 'failed'");
        assertThat(h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND state = 'issued'"))
                .isEqualTo(certificates);
        assertThat(h.count("SELECT count(DISTINCT batch_id) FROM certificate")).isEqualTo(certificates);

        // every order Pebble created is bound to a batch (no orphan); Pebble issued each certificate once
        List<String> productionOrders = h.pebbles.orderIdsCreated("production");
        Set<String> unboundStaging = unbound("staging");
        Set<String> unboundProduction = unbound("production");
        System.out.printf("  orders created at Pebble: %d staging, %d production (%d lost to a kill during validation;"
                        + " %d and %d new-orders answered by order reuse); certificates issued by Pebble %d, stored %d;"
                        + " unbound orders: staging %s, production %s; names ordered again after a kill (%s): %d%n",
                h.pebbles.orderIdsCreated("staging").size(), productionOrders.size(), lostToKills,
                h.staging.reusedOrders(), h.production.reusedOrders(), h.production.succeededCount(Endpoint.FINALIZE),
                certificates, unboundStaging, unboundProduction, BatchStore.RETRIED,
                h.count("SELECT count(*) FROM batch_member WHERE outcome = '" + BatchStore.RETRIED + "'"));
        assertThat(unboundProduction).as("production orders at the CA bound to no batch").isEmpty();
        assertThat(productionOrders).as("one production order per certificate, and one per order lost to a kill")
                .hasSize((int) (certificates + lostToKills));
        assertThat(h.production.succeededCount(Endpoint.FINALIZE)).as("certificates Pebble issued")
                .isEqualTo((int) certificates);
        assertThat(unboundStaging).as("staging orders at the CA bound to no batch").isEmpty();
    }

    /** The ids of the orders Pebble created in {@code env} that no batch holds. */
    private static Set<String> unbound(String env) throws SQLException, IOException {
        Set<String> bound = new HashSet<>();
        h.countBy("SELECT order_url, 1 FROM batch WHERE environment = '" + env + "' AND order_url IS NOT NULL")
                .keySet().forEach(u -> bound.add(u.substring(u.lastIndexOf('/') + 1)));
        Set<String> orphans = new TreeSet<>(h.pebbles.orderIdsCreated(env));
        orphans.removeAll(bound);
        return orphans;
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

    private static String tail(String s) {
        return s.length() < 6000 ? s : s.substring(s.length() - 6000);
    }

    /**
     * Starts the {@code run --once} children. Each restart costs seconds, so they are short-lived JVMs: the serial
     * collector and C1 only (the whole test took 206 s of CPU with C2, 137 s without), run from the packaged jar
     * (the test class path logs at DEBUG) with a class-data archive written by a first, uneventful run, which also
     * creates the ACME accounts (without the archive: 160 s of CPU instead of 138 s, and a cycle of 133 s instead
     * of 85 s).
     */
    private static final class Launcher {
        private final Path archive = LOGS.resolve("certfleet.jsa").toAbsolutePath();
        private boolean packaged;

        static Launcher warmUp() throws Exception {
            Files.createDirectories(LOGS);
            Launcher l = new Launcher();
            Files.deleteIfExists(l.archive);
            ChildJvm warmUp = plainChild();
            l.packaged = warmUp.packagedJarIfFresh();
            if (l.packaged) {
                warmUp.jvm("-XX:ArchiveClassesAtExit=" + l.archive);
            }
            long t0 = System.nanoTime();
            ChildJvm.Result r = warmUp.run(Duration.ofMinutes(2));
            Files.writeString(LOGS.resolve("warm-up.log"), r.err());
            assertThat(r.exitCode()).as("the warm-up run, with nothing to do: %s", r.err()).isZero();
            System.out.printf("PipelineCrashPointsIT: warm-up run %d ms (%s)%n", (System.nanoTime() - t0) / 1_000_000,
                    l.packaged && Files.exists(l.archive) ? "packaged jar, class-data archive written"
                            : "test class path: target/certfleet.jar is missing or older than target/classes");
            return l;
        }

        ChildJvm child() throws IOException {
            ChildJvm c = plainChild();
            if (packaged && c.packagedJarIfFresh() && Files.exists(archive)) {
                c.jvm("-XX:SharedArchiveFile=" + archive);
            }
            return c;
        }

        private static ChildJvm plainChild() {
            return ChildJvm.of(Map.of()).jvm("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC").overrides(h.overrides())
                    .args("run", "--once", "--format", "json");
        }
    }
}
