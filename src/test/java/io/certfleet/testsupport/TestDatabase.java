package io.certfleet.testsupport;

import io.certfleet.config.LoadedSettings;
import io.certfleet.config.SettingsLoader;
import io.certfleet.store.Database;
import io.certfleet.store.Store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;

/**
 * One real embedded PostgreSQL per test JVM, started through certfleet's own {@link Database} (so the tests run
 * the production start-up path), migrated, with a Hibernate {@link Store} on it. Tests call {@link #clean()} to
 * start from empty tables.
 */
public final class TestDatabase {
    private static TestDatabase instance;

    public final Path dir;
    public final int port;
    public final Database database;
    public final Store store;

    private TestDatabase(Path dir, int port) {
        this.dir = dir;
        this.port = port;
        this.database = Database.open(settings().settings().database());
        database.migrate();
        this.store = Store.open(database.dataSource());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            store.close();
            database.close();
            deleteRecursively(dir); // the server is stopped: leave no data directory behind in /tmp
        }));
    }

    public static synchronized TestDatabase get() {
        if (instance == null) {
            try {
                instance = new TestDatabase(Files.createTempDirectory("certfleet-it-"), freePort());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
    }

    /** Settings that point at this database (same data dir and port), as a second process would load them. */
    public LoadedSettings settings() {
        return SettingsLoader.load(Optional.empty(), Map.of(), overrides());
    }

    /** {@code --set} overrides for the CLI that point at this database. */
    public Map<String, String> overrides() {
        return Map.of("data.dir", dir.toString(), "db.embedded.port", Integer.toString(port));
    }

    /** The embedded server's password file (libpq format): {@code PGPASSFILE} for psql and pg_dump. */
    public Path passwordFile() {
        return Database.embeddedPasswordFile(settings().settings().database());
    }

    /** Empties every certfleet table (not Quartz's, not Flyway's history). */
    public void clean() {
        try (Connection c = database.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE domain, precheck_run, precheck_result, acme_account, batch, batch_member, validation,"
                    + " certificate, certificate_name, http01_token, ca_event, secret_key_check, secret_key_rotation,"
                    + " fleet_history, issuance_run, budget_limit, ca_limit_wait, authz_failure_streak RESTART IDENTITY CASCADE");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteRecursively(Path root) {
        try (var paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // best effort at JVM exit
        }
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
