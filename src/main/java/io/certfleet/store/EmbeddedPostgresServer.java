package io.certfleet.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * The embedded PostgreSQL (zonky binaries from Maven Central) that certfleet uses when no JDBC URL is configured.
 * Its data directory persists across restarts and it listens on 127.0.0.1 on a fixed port, so an operator can use
 * {@code psql} while the daemon runs.
 *
 * <p>Start-or-attach: a second certfleet process (for example {@code status} while {@code daemon} runs) finds the
 * server already running (a live {@code postmaster.pid} and an open port) and connects to it instead of starting
 * another one. The decision is taken under a file lock next to the data directory, so two processes that start at
 * the same moment do not both try to start the server.
 *
 * <p>Passwords: every connection, local socket or loopback TCP, needs the superuser's password, which lives in
 * {@link EmbeddedPassword#fileFor the password file} next to the data directory. A new data directory (zonky's
 * {@code initdb -A trust}) and one from a certfleet that trusted every local connection are both switched to
 * {@code scram-sha-256} the first time this class starts the server on them.
 *
 * <p>Stopping: the server runs as long as any certfleet process uses it ({@link Attachment}); the last one to close
 * stops it, whether it started it or attached to it.
 */
final class EmbeddedPostgresServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);
    /** Application name of this process's connections, so pg_stat_activity tells certfleet processes apart. */
    static final String APPLICATION_NAME = "certfleet pid " + ProcessHandle.current().pid();
    /** The start lock is a file lock, which belongs to the whole JVM: threads of one JVM take turns here first. */
    private static final Object JVM_TURN = new Object();

    private final Path dataDir;
    private final int port;
    private final String password;
    private final Optional<EmbeddedPostgres> owned;
    private final Attachment attachment;

    private EmbeddedPostgresServer(Path dataDir, int port, String password, Optional<EmbeddedPostgres> owned,
                                   Attachment attachment) {
        this.dataDir = dataDir;
        this.port = port;
        this.password = password;
        this.owned = owned;
        this.attachment = attachment;
    }

    /** Starts the server in {@code dataDir} on {@code port}, or attaches to the one already running there. */
    static EmbeddedPostgresServer startOrAttach(Path dataDir, int port) {
        Path absolute = dataDir.toAbsolutePath().normalize();
        synchronized (JVM_TURN) {
            return startOrAttachInTurn(absolute, port);
        }
    }

    private static EmbeddedPostgresServer startOrAttachInTurn(Path absolute, int port) {
        try {
            Files.createDirectories(absolute.getParent());
            try (FileChannel ch = FileChannel.open(startLockFile(absolute), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                Attachment attachment = Attachment.join(absolute);
                try {
                    return startOrAttachLocked(absolute, port, attachment);
                } catch (RuntimeException | IOException e) {
                    try (Attachment.Last ignoredToo = attachment.leave()) {
                        // nothing started: nothing to stop
                    }
                    throw e;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded PostgreSQL in " + absolute + ": " + e.getMessage(), e);
        }
    }

    private static EmbeddedPostgresServer startOrAttachLocked(Path dir, int port, Attachment attachment)
            throws IOException {
        Path passwordFile = EmbeddedPassword.fileFor(dir);
        Optional<Long> runningPid = runningPostmaster(dir);
        if (runningPid.isPresent()) {
            if (!listening(port)) {
                throw new IllegalStateException("embedded PostgreSQL in " + dir + " runs as pid "
                        + runningPid.get() + " but does not accept connections on 127.0.0.1:" + port
                        + "; is db.embedded.port the port it was started with?");
            }
            // a server started by a certfleet from before passwords still trusts: any password is accepted
            String password = EmbeddedPassword.read(passwordFile).orElseGet(() -> missingPassword(dir, passwordFile,
                    PgHba.trusts(dir)));
            log.info("database: attaching to the embedded PostgreSQL already running in {} (pid {}, port {})",
                    dir, runningPid.get(), port);
            return new EmbeddedPostgresServer(dir, port, password, Optional.empty(), attachment);
        }
        if (listening(port)) {
            throw new IllegalStateException("port 127.0.0.1:" + port + " (db.embedded.port) is taken by "
                    + "another program; choose a free port or set db.url");
        }
        boolean fresh = !Files.isRegularFile(dir.resolve("postgresql.conf"));
        boolean trusts = fresh || PgHba.trusts(dir);
        String password = EmbeddedPassword.read(passwordFile).orElseGet(() -> missingPassword(dir, passwordFile, trusts));
        long t0 = System.nanoTime();
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                .setPort(port)
                .setServerConfig("listen_addresses", "127.0.0.1")
                // zonky starts PostgreSQL with -F (fsync off), fine for throwaway test databases and wrong
                // for certfleet's: a committed state change must survive a crash of the machine
                .setServerConfig("fsync", "on")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("max_connections", "200")
                .setServerConfig("password_encryption", PgHba.SCRAM)
                // zonky's own readiness check logs in as postgres
                .setConnectConfig("password", password)
                .setConnectConfig("ApplicationName", APPLICATION_NAME)
                .setPGStartupWait(java.time.Duration.ofSeconds(60))
                // certfleet stops the server itself, after the parts that use it (Certfleet.close)
                .setRegisterShutdownHook(false)
                .start();
        log.info("database: started embedded PostgreSQL in {} on 127.0.0.1:{} ({} ms)", dir, port,
                (System.nanoTime() - t0) / 1_000_000);
        EmbeddedPostgresServer server = new EmbeddedPostgresServer(dir, port, password, Optional.of(pg), attachment);
        if (trusts) {
            try {
                server.requirePasswords(fresh);
            } catch (RuntimeException e) {
                closeQuietly(pg);
                throw e;
            }
        }
        return server;
    }

    /**
     * Generates the password when the server does not need one yet (a new data directory, or one that still trusts
     * local connections); otherwise the password file was lost, and certfleet cannot log in.
     */
    private static String missingPassword(Path dir, Path passwordFile, boolean serverTrusts) {
        if (!serverTrusts) {
            throw new IllegalStateException("the embedded PostgreSQL in " + dir + " requires a password and its "
                    + "password file " + passwordFile + " is missing; restore it from the backup you keep with "
                    + "secrets.key, or reset it: stop every certfleet process, change 'scram-sha-256' to 'trust' in "
                    + PgHba.fileIn(dir) + " and start certfleet, which then sets a new password (docs/operations.md)");
        }
        String password = EmbeddedPassword.create(passwordFile);
        log.info("database: generated the embedded PostgreSQL's password into {} (mode 0600); back it up with "
                + "secrets.key", passwordFile);
        return password;
    }

    /**
     * Sets the superuser's password (hashed here, so the server never sees it in clear text), switches every
     * {@code trust} rule of pg_hba.conf to scram-sha-256 and reloads; then checks that a login without the
     * password is refused.
     */
    private void requirePasswords(boolean fresh) {
        int rules;
        try (Connection c = connect(Optional.of(password))) {
            c.unwrap(PGConnection.class).alterUserPassword(EmbeddedPassword.USER, password.toCharArray(), PgHba.SCRAM);
            rules = PgHba.requirePasswords(dataDir);
            try (Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL")) {
                    if (rs.next()) {
                        throw new IllegalStateException(PgHba.fileIn(dataDir) + " line " + rs.getInt(1)
                                + " is not valid after certfleet switched it to " + PgHba.SCRAM + ": " + rs.getString(2));
                    }
                }
                s.execute("SELECT pg_reload_conf()");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot set the password of the embedded PostgreSQL in " + dataDir + ": "
                    + e.getMessage(), e);
        }
        boolean refused = waitUntilPasswordRequired();
        if (fresh) {
            log.info("database: the new embedded PostgreSQL in {} requires the password in {}", dataDir,
                    EmbeddedPassword.fileFor(dataDir));
        } else {
            log.info("database: the embedded PostgreSQL in {} trusted every local connection; it now requires the "
                    + "password in {} ({} pg_hba.conf rule(s) changed from trust to {})", dataDir,
                    EmbeddedPassword.fileFor(dataDir), rules, PgHba.SCRAM);
        }
        if (!refused) {
            log.warn("database: the embedded PostgreSQL in {} still accepts a login without password after reloading "
                    + "{}; check that file", dataDir, PgHba.fileIn(dataDir));
        }
        warnOfOtherRoles();
    }

    /**
     * While the server trusted every local connection (before this upgrade, or for the moment of a first start),
     * anyone could have created a role of their own, which the new password rules would still let in: name every
     * role that can log in other than ours, for the operator to check.
     */
    private void warnOfOtherRoles() {
        try (Connection c = connect(Optional.of(password)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT rolname || CASE WHEN rolsuper THEN ' (superuser)' ELSE '' END"
                     + " FROM pg_roles WHERE (rolcanlogin OR rolsuper) AND rolname <> '" + EmbeddedPassword.USER
                     + "' AND rolname NOT LIKE 'pg\\_%' ORDER BY 1")) {
            List<String> roles = new java.util.ArrayList<>();
            while (rs.next()) {
                roles.add(rs.getString(1));
            }
            if (!roles.isEmpty()) {
                log.warn("database: the embedded PostgreSQL in {} has login roles certfleet did not create: {}; they"
                        + " could be used while it trusted every local connection: drop any you do not know (DROP"
                        + " ROLE name)", dataDir, String.join(", ", roles));
            }
        } catch (SQLException e) {
            log.warn("database: cannot list the roles of the embedded PostgreSQL in {}: {}", dataDir, e.getMessage());
        }
    }

    /** The reload is asynchronous: polls until a login without password fails (at most 5 s). */
    private boolean waitUntilPasswordRequired() {
        long deadline = System.nanoTime() + 5_000_000_000L;
        do {
            try (Connection ignored = connect(Optional.empty())) {
                Thread.sleep(50);
            } catch (SQLException refused) {
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        } while (System.nanoTime() < deadline);
        return false;
    }

    private Connection connect(Optional<String> pw) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", EmbeddedPassword.USER);
        pw.ifPresent(p -> props.setProperty("password", p));
        props.setProperty("ApplicationName", APPLICATION_NAME);
        props.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(jdbcUrl(), props);
    }

    private static Path startLockFile(Path dataDir) {
        return dataDir.resolveSibling(dataDir.getFileName() + ".start.lock");
    }

    /** The pid in {@code postmaster.pid} if that process is alive. */
    private static Optional<Long> runningPostmaster(Path dataDir) throws IOException {
        Path pidFile = dataDir.resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        List<String> lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
        if (lines.isEmpty()) {
            return Optional.empty();
        }
        try {
            long pid = Long.parseLong(lines.get(0).strip());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(p -> pid);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    String user() {
        return EmbeddedPassword.USER;
    }

    /** The superuser's password, for the pool; never logged. */
    String password() {
        return password;
    }

    boolean ownsServer() {
        return owned.isPresent();
    }

    Path dataDir() {
        return dataDir;
    }

    int port() {
        return port;
    }

    /**
     * Leaves the server. The last certfleet process to leave stops it (through zonky if this process started it,
     * with a fast-shutdown signal to the postmaster otherwise); while others still use it, it keeps running.
     */
    @Override
    public void close() {
        synchronized (JVM_TURN) {
            leave();
        }
    }

    private void leave() {
        try (FileChannel ch = FileChannel.open(startLockFile(dataDir), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
             FileLock ignored = ch.lock();
             Attachment.Last last = attachment.leave()) {
            if (last == null) {
                if (owned.isPresent()) {
                    log.info("database: leaving the embedded PostgreSQL in {} running for the {} other certfleet "
                            + "process(es) using it; the last of them stops it", dataDir, otherProcesses());
                }
                return;
            }
            List<String> others = otherClients();
            if (!others.isEmpty()) {
                // a certfleet older than the users lock, a pg_dump, an admin's psql: never cut them off
                log.warn("database: leaving the embedded PostgreSQL in {} running: {} other client(s) are connected"
                        + " ({}); the next certfleet process to leave last stops it", dataDir, others.size(),
                        String.join(", ", others));
                return;
            }
            if (owned.isPresent()) {
                owned.get().close();
                log.info("database: stopped embedded PostgreSQL in {}", dataDir);
            } else {
                stopStartedByOther();
            }
        } catch (IOException e) {
            log.warn("database: stopping embedded PostgreSQL in {} failed: {}", dataDir, e.toString());
        }
    }

    /** How many other certfleet processes have connections open (for the log; -1 if it cannot be told). */
    private long otherProcesses() {
        try (Connection c = connect(Optional.of(password)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(DISTINCT application_name) FROM pg_stat_activity"
                     + " WHERE backend_type = 'client backend' AND application_name LIKE 'certfleet pid %'"
                     + " AND application_name <> '" + APPLICATION_NAME + "'")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            log.debug("database: cannot count the other certfleet processes: {}", e.getMessage());
            return -1;
        }
    }

    /**
     * Client connections of anyone but this process (application name and client address), or empty when none or
     * when the server cannot be asked.
     */
    private List<String> otherClients() {
        try (Connection c = connect(Optional.of(password)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT coalesce(nullif(application_name, ''), 'unnamed') || ' from '"
                     + " || coalesce(host(client_addr), 'local socket') FROM pg_stat_activity"
                     + " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                     + " AND application_name <> '" + APPLICATION_NAME + "' ORDER BY 1")) {
            List<String> out = new java.util.ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            log.debug("database: cannot list the other clients: {}", e.getMessage());
            return List.of();
        }
    }

    /** The server was started by a certfleet process that has exited since: SIGINT (fast shutdown) to its postmaster. */
    private void stopStartedByOther() throws IOException {
        Optional<Long> pid = runningPostmaster(dataDir);
        if (pid.isEmpty()) {
            return;
        }
        Optional<String> command = ProcessHandle.of(pid.get()).flatMap(h -> h.info().command());
        if (command.isPresent() && !command.get().contains("postgres")) {
            log.warn("database: not stopping pid {} from {}/postmaster.pid: it runs {}, not PostgreSQL (a stale pid"
                    + " file?)", pid.get(), dataDir, command.get());
            return;
        }
        try {
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(pid.get())).redirectErrorStream(true).start();
            String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (kill.waitFor() != 0) {
                log.warn("database: cannot stop the embedded PostgreSQL in {} (pid {}): kill said {}", dataDir,
                        pid.get(), out);
                return;
            }
            Optional<ProcessHandle> h = ProcessHandle.of(pid.get());
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (h.map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (h.map(ProcessHandle::isAlive).orElse(false)) {
                log.warn("database: the embedded PostgreSQL in {} (pid {}) is still running 30 s after the stop "
                        + "signal", dataDir, pid.get());
            } else {
                log.info("database: stopped embedded PostgreSQL in {} (pid {}, started by an earlier certfleet "
                        + "process); this process was the last using it", dataDir, pid.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(EmbeddedPostgres pg) {
        try {
            pg.close();
        } catch (IOException | RuntimeException e) {
            log.warn("database: stopping embedded PostgreSQL failed: {}", e.toString());
        }
    }
}
