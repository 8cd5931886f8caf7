package io.certfleet.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
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
import java.util.List;
import java.util.Optional;

/**
 * The embedded PostgreSQL (zonky binaries from Maven Central) that certfleet uses when no JDBC URL is configured.
 * Its data directory persists across restarts and it listens on 127.0.0.1 on a fixed port, so an operator can use
 * {@code psql} while the daemon runs.
 *
 * <p>Start-or-attach: a second certfleet process (for example {@code status} while {@code daemon} runs) finds the
 * server already running (a live {@code postmaster.pid} and an open port) and connects to it instead of starting
 * another one. The decision is taken under a file lock next to the data directory, so two processes that start at
 * the same moment do not both try to start the server.
 */
final class EmbeddedPostgresServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

    private final Path dataDir;
    private final int port;
    private final Optional<EmbeddedPostgres> owned;

    private EmbeddedPostgresServer(Path dataDir, int port, Optional<EmbeddedPostgres> owned) {
        this.dataDir = dataDir;
        this.port = port;
        this.owned = owned;
    }

    /** Starts the server in {@code dataDir} on {@code port}, or attaches to the one already running there. */
    static EmbeddedPostgresServer startOrAttach(Path dataDir, int port) {
        Path absolute = dataDir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(absolute.getParent());
            Path lockFile = absolute.resolveSibling(absolute.getFileName() + ".start.lock");
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                Optional<Long> runningPid = runningPostmaster(absolute);
                if (runningPid.isPresent()) {
                    if (!listening(port)) {
                        throw new IllegalStateException("embedded PostgreSQL in " + absolute + " runs as pid "
                                + runningPid.get() + " but does not accept connections on 127.0.0.1:" + port
                                + "; is db.embedded.port the port it was started with?");
                    }
                    log.info("database: attaching to the embedded PostgreSQL already running in {} (pid {}, port {})",
                            absolute, runningPid.get(), port);
                    return new EmbeddedPostgresServer(absolute, port, Optional.empty());
                }
                if (listening(port)) {
                    throw new IllegalStateException("port 127.0.0.1:" + port + " (db.embedded.port) is taken by "
                            + "another program; choose a free port or set db.url");
                }
                long t0 = System.nanoTime();
                EmbeddedPostgres pg = EmbeddedPostgres.builder()
                        .setDataDirectory(absolute)
                        .setCleanDataDirectory(false)
                        .setPort(port)
                        .setServerConfig("listen_addresses", "127.0.0.1")
                        // zonky starts PostgreSQL with -F (fsync off), fine for throwaway test databases and wrong
                        // for certfleet's: a committed state change must survive a crash of the machine
                        .setServerConfig("fsync", "on")
                        .setServerConfig("synchronous_commit", "on")
                        .setServerConfig("max_connections", "200")
                        .setPGStartupWait(java.time.Duration.ofSeconds(60))
                        // certfleet stops the server itself, after the parts that use it (Certfleet.close)
                        .setRegisterShutdownHook(false)
                        .start();
                log.info("database: started embedded PostgreSQL in {} on 127.0.0.1:{} ({} ms)", absolute, port,
                        (System.nanoTime() - t0) / 1_000_000);
                return new EmbeddedPostgresServer(absolute, port, Optional.of(pg));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded PostgreSQL in " + absolute + ": " + e.getMessage(), e);
        }
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

    boolean ownsServer() {
        return owned.isPresent();
    }

    Path dataDir() {
        return dataDir;
    }

    int port() {
        return port;
    }

    /** Stops the server if this process started it; an attached process leaves it running. */
    @Override
    public void close() {
        if (owned.isPresent()) {
            try {
                owned.get().close();
                log.info("database: stopped embedded PostgreSQL in {}", dataDir);
            } catch (IOException e) {
                log.warn("database: stopping embedded PostgreSQL in {} failed: {}", dataDir, e.toString());
            }
        }
    }
}
