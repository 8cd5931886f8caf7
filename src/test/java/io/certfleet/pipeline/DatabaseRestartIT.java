package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.testsupport.ChildJvm;
import io.certfleet.testsupport.Cli;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 3 (database restart): {@code pg_ctl restart -m fast} of the embedded PostgreSQL twice while a
 * {@code run --once} works in a child JVM (once during the staging rehearsal, once when production has begun). The
 * run reconnects and finishes: every name issued exactly once, one production order per certificate, nothing lost.
 */
@Tag("slow")
class DatabaseRestartIT {
    private static final int NAMES = 150;
    private static PipelineHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new PipelineHarness();
        // Let's Encrypt answers a new-order for the same names and account with its pending order; Pebble does not,
        // so the proxies do. A restart between new-order and storing the order's URL then costs no second order
        // (without it, one CI run saw 3 production orders for 2 certificates)
        h.staging.reuseOrders();
        h.production.reuseOrders();
        h.db.clean();
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void aRunSurvivesTwoDatabaseRestartsAndIssuesEveryNameOnce() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < NAMES; i++) {
            sb.append(String.format("r%03d.restart.example,cust%d%n", i, i / 30));
        }
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.UTF_8)),
                "import", "-").exitCode()).isZero();
        h.staging.resetCounts();
        h.production.resetCounts();

        ChildJvm child = ChildJvm.of(java.util.Map.of()).overrides(h.overrides()).args("run", "--once", "--format", "json");
        long t0 = System.nanoTime();
        Process p = child.start();
        try {
            awaitCount(p, child, "SELECT count(*) FROM batch WHERE environment = 'staging' AND order_url IS NOT NULL");
            restartDatabase();
            awaitCount(p, child, "SELECT count(*) FROM batch WHERE environment = 'production' AND order_url IS NOT NULL");
            restartDatabase();
            assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("the run ends").isTrue();
        } finally {
            p.destroyForcibly();
        }
        ChildJvm.Result r = child.finish(p);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.exitCode()).as("run exit code; stderr:%n%s", tail(r.err())).isZero();
        JsonNode s = new ObjectMapper().readTree(r.out());
        assertThat(s.get("finished").asBoolean()).isTrue();

        assertThat(count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(NAMES);
        assertThat(count("SELECT count(*) FROM certificate_name")).isEqualTo(NAMES);
        assertThat(count("SELECT count(*) FROM (SELECT domain_id FROM certificate_name GROUP BY 1 HAVING count(*) > 1) x"))
                .isZero();
        long certificates = count("SELECT count(*) FROM certificate");
        assertThat(count("SELECT count(*) FROM batch WHERE environment = 'production'")).isEqualTo(certificates);
        // (the proxy's request count would include badNonce retries: Pebble's log says which orders exist)
        assertThat(h.pebbles.ordersCreated("production")).as("one production order per certificate")
                .isEqualTo(certificates);
        assertThat(count("SELECT count(*) FROM batch WHERE state IN ('planned','ordered','authorizing','finalizing')"))
                .isZero();
        System.out.printf("DatabaseRestartIT: %d names, 2 restarts, run took %d ms, %d certificates, %d production "
                + "orders created (%d new-order requests)%n", NAMES, ms, certificates,
                h.pebbles.ordersCreated("production"), h.production.count(Endpoint.NEW_ORDER));
    }

    private static void awaitCount(Process p, ChildJvm child, String sql) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (count(sql) == 0) {
            assertThat(p.isAlive()).as("the run ended too early:%n%s", tail(child.stderrSoFar())).isTrue();
            assertThat(System.nanoTime()).as("waited too long for: %s", sql).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /**
     * Restarts the server: a fast shutdown (SIGINT: open transactions are rolled back and every connection is cut),
     * then the same postgres command line again. (pg_ctl refuses to run as root, which CI containers are, and its
     * restart could not signal a server started in zonky's user namespace.)
     */
    private static void restartDatabase() throws Exception {
        long pid = postmasterPid();
        String[] cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).split("\0");
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(pid)).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        ProcessHandle old = ProcessHandle.of(pid).orElseThrow();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (old.isAlive()) {
            assertThat(System.nanoTime()).as("postgres stops").isLessThan(deadline);
            Thread.sleep(20);
        }
        Path log = h.db.dir.resolve("restarted-postgres.log");
        // as root, start it the way zonky does: in a user namespace where we are not root
        List<String> command = new ArrayList<>();
        if (new com.sun.security.auth.module.UnixSystem().getUid() == 0) {
            command.addAll(List.of("unshare", "-U"));
        }
        command.addAll(List.of(cmdline));
        Process pg = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                new ProcessBuilder("kill", "-INT", Long.toString(pg.pid())).start().waitFor();
                pg.waitFor(30, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException ignored) {
                pg.destroyForcibly();
            }
        }));
        while (true) {
            assertThat(pg.isAlive()).as("postgres restarts: %s", Files.exists(log) ? Files.readString(log) : "")
                    .isTrue();
            try (java.net.Socket sock = new java.net.Socket()) {
                sock.connect(new java.net.InetSocketAddress("127.0.0.1", h.db.port), 200);
                break;
            } catch (IOException notYet) {
                assertThat(System.nanoTime()).as("postgres accepts connections again").isLessThan(deadline);
                Thread.sleep(50);
            }
        }
    }

    private static long postmasterPid() throws IOException {
        return Long.parseLong(Files.readAllLines(h.db.dir.resolve("postgres/postmaster.pid")).get(0).strip());
    }

    /** A count through this JVM's pool, which also sees its connections cut: retried for a few seconds. */
    private static long count(String sql) throws Exception {
        for (int i = 0; ; i++) {
            try {
                return h.count(sql);
            } catch (java.sql.SQLException e) {
                if (i > 50) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    private static String tail(String s) {
        return s.length() < 6000 ? s : s.substring(s.length() - 6000);
    }
}
