package io.certfleet.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Which certfleet processes use the embedded server in a data directory: each holds a shared lock on
 * {@code <data-dir>.users.lock} from start-or-attach until it closes its database. The process that closes last
 * (the only one that can then take the lock exclusively) stops the server, whether it started it or not. The
 * operating system drops a crashed process's lock, so a dead process never keeps the server up.
 *
 * <p>File locks belong to the whole JVM, so several {@link Database}s of one JVM (tests, a CLI command inside
 * the daemon's JVM) share one lock, counted here.
 */
final class Attachment {
    private static final Map<Path, Attachment> BY_DIR = new HashMap<>();

    private final Path dataDir;
    private final FileChannel channel;
    private FileLock shared;
    private int users;

    private Attachment(Path dataDir, FileChannel channel, FileLock shared) {
        this.dataDir = dataDir;
        this.channel = channel;
        this.shared = shared;
    }

    static Path lockFileFor(Path dataDir) {
        return dataDir.resolveSibling(dataDir.getFileName() + ".users.lock");
    }

    /** Registers this JVM as a user of the server in {@code dataDir} (absolute, normalised). */
    static synchronized Attachment join(Path dataDir) {
        Attachment a = BY_DIR.get(dataDir);
        if (a == null) {
            try {
                FileChannel ch = FileChannel.open(lockFileFor(dataDir), StandardOpenOption.CREATE,
                        StandardOpenOption.READ, StandardOpenOption.WRITE);
                a = new Attachment(dataDir, ch, ch.lock(0, Long.MAX_VALUE, true));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot lock " + lockFileFor(dataDir) + ": " + e.getMessage(), e);
            }
            BY_DIR.put(dataDir, a);
        }
        a.users++;
        return a;
    }

    /**
     * Leaves; returns an exclusive lock if this JVM was the last user of the server (the caller stops it, then
     * closes the returned handle), or null if another process or another database of this JVM still uses it.
     */
    Last leave() {
        synchronized (Attachment.class) {
            if (--users > 0) {
                return null;
            }
            BY_DIR.remove(dataDir);
            try {
                shared.release();
                FileLock exclusive = channel.tryLock(0, Long.MAX_VALUE, false);
                if (exclusive == null) {
                    channel.close();
                    return null;
                }
                return new Last(channel);
            } catch (IOException e) {
                closeQuietly(channel);
                throw new UncheckedIOException("cannot lock " + lockFileFor(dataDir) + ": " + e.getMessage(), e);
            }
        }
    }

    /** Held while the last user stops the server. */
    static final class Last implements AutoCloseable {
        private final FileChannel channel;

        private Last(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public void close() {
            closeQuietly(channel); // releases the exclusive lock
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // the lock goes with the channel
        }
    }
}
