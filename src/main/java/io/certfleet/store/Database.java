package io.certfleet.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.certfleet.config.Settings;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.util.Optional;

/**
 * certfleet's PostgreSQL: the embedded server (default) or the one {@code db.url} names, behind a HikariCP pool.
 * Flyway owns the schema ({@code db/migration}, shipped in the jar).
 */
public final class Database implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Database.class);

    private final Optional<EmbeddedPostgresServer> embedded;
    private final HikariDataSource pool;
    private final String jdbcUrl;

    private Database(Optional<EmbeddedPostgresServer> embedded, HikariDataSource pool, String jdbcUrl) {
        this.embedded = embedded;
        this.pool = pool;
        this.jdbcUrl = jdbcUrl;
    }

    /** Connects (starting or attaching to the embedded server if no URL is configured). Does not migrate. */
    public static Database open(Settings.Database settings) {
        Optional<EmbeddedPostgresServer> embedded = settings.embedded()
                ? Optional.of(EmbeddedPostgresServer.startOrAttach(settings.embeddedDataDir(), settings.embeddedPort()))
                : Optional.empty();
        String url = embedded.map(EmbeddedPostgresServer::jdbcUrl).orElseGet(() -> settings.url().orElseThrow());
        var cfg = new HikariConfig();
        cfg.setPoolName("certfleet");
        cfg.setJdbcUrl(url);
        if (embedded.isPresent()) {
            cfg.setUsername(embedded.get().user());
            cfg.setPassword(embedded.get().password());
        } else {
            cfg.setUsername(settings.user());
            settings.password().ifPresent(cfg::setPassword);
        }
        cfg.setMaximumPoolSize(settings.poolSize());
        cfg.setMinimumIdle(Math.min(2, settings.poolSize()));
        cfg.setConnectionTimeout(settings.connectTimeout().toMillis());
        cfg.setInitializationFailTimeout(settings.connectTimeout().toMillis());
        // "certfleet pid N": tells this process's connections from other certfleet processes' in pg_stat_activity
        cfg.addDataSourceProperty("ApplicationName", EmbeddedPostgresServer.APPLICATION_NAME);
        cfg.addDataSourceProperty("reWriteBatchedInserts", "true");
        try {
            return new Database(embedded, new HikariDataSource(cfg), url);
        } catch (RuntimeException e) {
            embedded.ifPresent(EmbeddedPostgresServer::close);
            throw new IllegalStateException("cannot connect to the database at " + redact(url) + ": " + e.getMessage(), e);
        }
    }

    /** Applies pending migrations; returns how many were applied. */
    public int migrate() {
        Flyway flyway = Flyway.configure()
                .dataSource(pool)
                .locations("classpath:db/migration")
                .validateMigrationNaming(true)
                .load();
        MigrateResult result = flyway.migrate();
        if (result.migrationsExecuted > 0) {
            log.info("database: applied {} migration(s), schema now at version {}", result.migrationsExecuted,
                    result.targetSchemaVersion);
        } else {
            log.info("database: schema is up to date at version {}", flyway.info().current() == null ? "-"
                    : flyway.info().current().getVersion());
        }
        return result.migrationsExecuted;
    }

    public DataSource dataSource() {
        return pool;
    }

    /** The JDBC URL in use, without credentials. */
    public String jdbcUrl() {
        return redact(jdbcUrl);
    }

    /** Present when the embedded server is in use; says whether this process owns (started) it. */
    public Optional<EmbeddedInfo> embeddedInfo() {
        return embedded.map(e -> new EmbeddedInfo(e.dataDir(), e.port(), e.ownsServer()));
    }

    /**
     * The file with the embedded server's superuser password (libpq password-file format, mode 0600), next to
     * its data directory: {@code data/postgres} → {@code data/postgres.pass}. Created on the first start.
     */
    public static java.nio.file.Path embeddedPasswordFile(Settings.Database settings) {
        return EmbeddedPassword.fileFor(settings.embeddedDataDir());
    }

    /** Where the embedded server lives. */
    public record EmbeddedInfo(java.nio.file.Path dataDir, int port, boolean ownedByThisProcess) {
    }

    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1****");
    }

    @Override
    public void close() {
        pool.close();
        embedded.ifPresent(EmbeddedPostgresServer::close);
    }
}
