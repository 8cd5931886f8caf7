package io.certfleet.store;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.certfleet.config.Settings;
import io.certfleet.config.SettingsLoader;
import io.certfleet.testsupport.TestDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The embedded PostgreSQL requires the password in {@code <data-dir>.pass}: an audit found that it trusted every
 * local connection, so any local user could log in as superuser, read the secrets key with {@code pg_read_file}
 * and decrypt every stored private key.
 */
class EmbeddedPasswordIT {

    @Test
    void aLoginWithoutThePasswordIsRefusedAndOneWithItWorks() throws Exception {
        TestDatabase db = TestDatabase.get(); // a new data directory, started through Database.open
        Path passFile = db.passwordFile();
        assertThat(passFile).isEqualTo(db.dir.resolve("postgres.pass"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(passFile))).isEqualTo("rw-------");
        String password = EmbeddedPassword.read(passFile).orElseThrow();
        assertThat(password).hasSizeGreaterThanOrEqualTo(32);

        assertThatThrownBy(() -> login(db.port, Optional.empty()).close()).isInstanceOf(SQLException.class);
        assertThatThrownBy(() -> login(db.port, Optional.of("not-" + password)).close())
                .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
        try (Connection c = login(db.port, Optional.of(password)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE auth_method <> 'scram-sha-256'),"
                     + " count(*) FROM pg_hba_file_rules")) {
            rs.next();
            assertThat(rs.getLong(1)).as("pg_hba rules without scram-sha-256").isZero();
            assertThat(rs.getLong(2)).isPositive();
        }
        assertThat(PgHba.trusts(db.dir.resolve("postgres"))).isFalse();

        // psql: with the password file as PGPASSFILE it gets in, without it not (local socket or TCP)
        assertThat(psql(db.port, passFile, "127.0.0.1")).startsWith("0:").contains("42");
        assertThat(psql(db.port, db.dir.resolve("no-such-file"), "127.0.0.1")).doesNotStartWith("0:");
        String socketDir = query(db.port, password, "SELECT split_part(current_setting('unix_socket_directories'), ',', 1)");
        if (!socketDir.isBlank()) {
            assertThat(psql(db.port, db.dir.resolve("no-such-file"), socketDir.strip())).doesNotStartWith("0:");
        }
    }

    @Test
    void aTrustingDataDirectoryFromAnEarlierCertfleetIsUpgradedOnItsNextStart() throws Exception {
        Path root = Files.createTempDirectory("certfleet-it-trust-");
        Path dataDir = root.resolve("postgres");
        int port = TestDatabase.freePort();
        ListAppender<ILoggingEvent> log = capture();
        try {
            // what certfleet before passwords left behind: zonky's initdb -A trust, and a row of data
            try (EmbeddedPostgres old = EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false)
                    .setPort(port).setServerConfig("listen_addresses", "127.0.0.1").start();
                 Connection c = old.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('from before')");
                // what anyone could do while it trusted every local connection
                s.execute("CREATE ROLE intruder LOGIN SUPERUSER");
            }
            assertThat(PgHba.trusts(dataDir)).isTrue();
            Path passFile = root.resolve("postgres.pass");
            assertThat(passFile).doesNotExist();

            Settings.Database settings = settings(root, port);
            try (Database database = Database.open(settings)) {
                assertThat(log.list).filteredOn(e -> e.getLevel() == Level.WARN).extracting(ILoggingEvent::getFormattedMessage)
                        .anySatisfy(m -> assertThat(m).contains("login roles certfleet did not create",
                                "intruder (superuser)"));
                assertThat(PgHba.trusts(dataDir)).isFalse();
                String password = EmbeddedPassword.read(passFile).orElseThrow();
                assertThatThrownBy(() -> login(port, Optional.empty()).close()).isInstanceOf(SQLException.class);
                assertThat(query(port, password, "SELECT v FROM kept")).isEqualTo("from before");
                try (Connection c = database.dataSource().getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT current_setting('application_name')")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("certfleet pid " + ProcessHandle.current().pid());
                }
            }

            // the second start reads the same password; a lost password file is named, with the way out
            try (Database again = Database.open(settings)) {
                assertThat(again.embeddedInfo()).hasValueSatisfying(i -> assertThat(i.ownedByThisProcess()).isTrue());
            }
            Files.move(passFile, root.resolve("moved-away"));
            assertThatThrownBy(() -> Database.open(settings)).hasMessageContaining(passFile.toString())
                    .hasMessageContaining("is missing").hasMessageContaining("secrets.key");
            assertThat(dataDir.resolve("postmaster.pid")).doesNotExist();
        } finally {
            release(log);
            try (var paths = Files.walk(root)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /**
     * The last certfleet process to leave does not cut off other clients (an admin's psql, a pg_dump, a certfleet
     * older than the users lock): the server keeps running, and the next certfleet process that leaves last, with
     * nobody else connected, stops it.
     */
    @Test
    void theLastCertfleetProcessLeavesTheServerRunningWhileAnotherClientIsConnected() throws Exception {
        Path root = Files.createTempDirectory("certfleet-it-other-client-");
        int port = TestDatabase.freePort();
        Settings.Database settings = settings(root, port);
        Path pid = root.resolve("postgres/postmaster.pid");
        try {
            Database first = Database.open(settings);
            String password = EmbeddedPassword.read(root.resolve("postgres.pass")).orElseThrow();
            try (Connection admin = login(port, Optional.of(password)); Statement s = admin.createStatement()) {
                first.close();
                assertThat(pid).as("still running for the other client").exists();
                try (ResultSet rs = s.executeQuery("SELECT 42")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(42);
                }
            }
            try (Database second = Database.open(settings)) {
                assertThat(second.embeddedInfo()).hasValueSatisfying(i -> assertThat(i.ownedByThisProcess()).isFalse());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (Files.exists(pid) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(pid).as("stopped by the last certfleet process, with nobody else connected").doesNotExist();
        } finally {
            try (var paths = Files.walk(root)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static ListAppender<ILoggingEvent> capture() {
        Logger logger = (Logger) LoggerFactory.getLogger(EmbeddedPostgresServer.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        return appender;
    }

    private static void release(ListAppender<ILoggingEvent> appender) {
        ((Logger) LoggerFactory.getLogger(EmbeddedPostgresServer.class)).detachAppender(appender);
    }

    @Test
    void pgHbaMethodFieldIsFoundWhateverTheRuleLooksLike() {
        assertThat(PgHba.trustAt("local   all             all                                     trust")).isPositive();
        assertThat(PgHba.trustAt("host    all             all             127.0.0.1/32            trust")).isPositive();
        assertThat(PgHba.trustAt("host all all 127.0.0.1 255.255.255.255 trust")).isPositive();
        assertThat(PgHba.trustAt("host trust all 127.0.0.1/32 scram-sha-256")).isNegative(); // a database named trust
        assertThat(PgHba.trustAt("# host all all 127.0.0.1/32 trust")).isNegative();
        assertThat(PgHba.trustAt("host all all 127.0.0.1/32 scram-sha-256 # not trust")).isNegative();
    }

    static Settings.Database settings(Path dataRoot, int port) {
        return SettingsLoader.load(Optional.empty(), Map.of(), Map.of("data.dir", dataRoot.toString(),
                "db.embedded.port", Integer.toString(port))).settings().database();
    }

    private static Connection login(int port, Optional<String> password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        password.ifPresent(pw -> p.setProperty("password", pw));
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    private static String query(int port, String password, String sql) throws SQLException {
        try (Connection c = login(port, Optional.of(password)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** psql with {@code PGPASSFILE}; returns "exit code: output". */
    private static String psql(int port, Path passFile, String host) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("psql", "-h", host, "-p", Integer.toString(port), "-U", "postgres",
                "-w", "-At", "-c", "SELECT 42", "postgres").redirectErrorStream(true);
        pb.environment().remove("PGPASSWORD");
        pb.environment().put("PGPASSFILE", passFile.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue() + ": " + out;
    }
}
