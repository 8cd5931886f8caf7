package io.certfleet.store;

import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A second certfleet process (here: {@code status} in another JVM) connects to the embedded server this JVM
 * already runs, instead of failing on its lock or starting another one; and the process that started the server
 * does not stop it under another one that still uses it.
 */
class SecondProcessIT {
    private final TestDatabase db = TestDatabase.get();

    @Test
    void secondProcessAttachesToTheRunningEmbeddedServer() throws Exception {
        db.clean();
        String pidBefore = Files.readAllLines(db.dir.resolve("postgres/postmaster.pid")).get(0);
        assertThat(db.database.embeddedInfo()).hasValueSatisfying(i -> assertThat(i.ownedByThisProcess()).isTrue());

        List<String> cmd = new ArrayList<>(List.of(
                System.getProperty("java.home") + "/bin/java", "-cp", System.getProperty("java.class.path"),
                "io.certfleet.cli.Main"));
        db.overrides().forEach((k, v) -> cmd.addAll(List.of("--set", k + "=" + v)));
        cmd.addAll(List.of("status", "--format", "json"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();

        assertThat(p.exitValue()).as(err).isZero();
        assertThat(out).contains("\"total\":0");
        assertThat(err).contains("attaching to the embedded PostgreSQL already running");
        assertThat(Files.readAllLines(db.dir.resolve("postgres/postmaster.pid")).get(0)).isEqualTo(pidBefore);
        // the second process left the server running for its owner
        assertThat(ProcessHandle.of(Long.parseLong(pidBefore))).hasValueSatisfying(h -> assertThat(h.isAlive()).isTrue());
    }

    /**
     * Regression: the process that started the embedded server stopped it when it ended, so a daemon started while a
     * {@code run --once} owned the server lost its database when the run ended. Now the last user stops it.
     */
    @Test
    void theServerOutlivesItsStarterWhileAnotherProcessUsesItAndTheLastUserStopsIt() throws Exception {
        Path root = Files.createTempDirectory("certfleet-it-handover-");
        int port = TestDatabase.freePort();
        Path starterLog = root.resolve("starter.log");
        Process starter = new ProcessBuilder(System.getProperty("java.home") + "/bin/java", "-cp",
                System.getProperty("java.class.path"), Holder.class.getName(), root.toString(), Integer.toString(port))
                .redirectError(starterLog.toFile()).start();
        try {
            BufferedReader starterOut = new BufferedReader(new InputStreamReader(starter.getInputStream(),
                    StandardCharsets.UTF_8));
            assertThat(starterOut.readLine()).as(() -> log(starterLog)).isEqualTo("ready owned=true");
            long postmaster = Long.parseLong(Files.readAllLines(root.resolve("postgres/postmaster.pid")).get(0).strip());

            Database attached = Database.open(EmbeddedPasswordIT.settings(root, port));
            try {
                assertThat(attached.embeddedInfo()).hasValueSatisfying(i -> assertThat(i.ownedByThisProcess()).isFalse());
                assertThat(selectOne(attached)).isEqualTo(1);

                try (OutputStream in = starter.getOutputStream()) {
                    in.write("exit\n".getBytes(StandardCharsets.US_ASCII));
                }
                assertThat(starter.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(starter.exitValue()).as(() -> log(starterLog)).isZero();
                assertThat(log(starterLog)).contains("leaving the embedded PostgreSQL in " + root.resolve("postgres")
                        + " running for the 1 other certfleet process(es) using it");

                assertThat(ProcessHandle.of(postmaster)).hasValueSatisfying(h -> assertThat(h.isAlive()).isTrue());
                attached.dataSource().unwrap(com.zaxxer.hikari.HikariDataSource.class).getHikariPoolMXBean()
                        .softEvictConnections(); // new connections too, not only the pool's old ones
                assertThat(selectOne(attached)).isEqualTo(1);
            } finally {
                attached.close(); // the last user: stops the server it did not start
            }
            ProcessHandle.of(postmaster).ifPresent(h -> h.onExit().orTimeout(30, TimeUnit.SECONDS).join());
            assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        } finally {
            starter.destroyForcibly();
            try (var paths = Files.walk(root)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static int selectOne(Database database) throws Exception {
        try (Connection c = database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String log(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** A certfleet process that opens the database, says so, and closes it when told to (a line on stdin). */
    public static final class Holder {
        public static void main(String[] args) throws Exception {
            try (Database database = Database.open(EmbeddedPasswordIT.settings(Path.of(args[0]), Integer.parseInt(args[1])))) {
                System.out.println("ready owned=" + database.embeddedInfo().orElseThrow().ownedByThisProcess());
                System.out.flush();
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII)).readLine();
            }
        }
    }
}
