package io.certfleet.store;

import io.certfleet.config.ConfigException;
import io.certfleet.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * Loads the secrets key (inline setting, else key file, else a new key generated into the key file with a WARN)
 * and checks it against the fingerprint the database recorded the first time, so a wrong key fails loudly at
 * start instead of producing keys nobody can decrypt. After {@code certfleet keys rotate} (see {@link KeyRotation})
 * the recorded fingerprint is the new key's: a process started with the replaced key is told so, and a process
 * still running with it can no longer write a secret ({@link #requireCurrent}).
 */
public final class SecretKeys {
    private static final Logger log = LoggerFactory.getLogger(SecretKeys.class);
    static final String CHECK_ID = "default";

    private SecretKeys() {
    }

    public static SecretBox load(Settings.Secrets settings) {
        if (settings.inlineKey().isPresent()) {
            return new SecretBox(decode("secrets.key", settings.inlineKey().get()));
        }
        Path file = settings.keyFile();
        try {
            if (!Files.exists(file)) {
                generate(file);
                log.warn("secrets: no secrets key was configured; generated a new one in {}. Back it up: without it "
                        + "the private keys stored in the database cannot be decrypted", file.toAbsolutePath());
            }
        } catch (IOException e) {
            throw new ConfigException("secrets.key-file", "cannot create '" + file + "': " + e.getMessage(), e);
        }
        permissionProblem(file).ifPresent(p -> log.warn("secrets: the key file {} {}; chmod 600 it", file, p));
        return readKeyFile(file, "secrets.key-file");
    }

    /** The setting the key of {@code settings} comes from, for messages: {@code secrets.key} or {@code secrets.key-file}. */
    public static String source(Settings.Secrets settings) {
        return settings.inlineKey().isPresent() ? "secrets.key" : "secrets.key-file";
    }

    /**
     * Writes a new random key to {@code file} (base64, one line), created with mode 0600 before any byte is
     * written. Never replaces an existing file: a key file that exists may be the only copy of a key.
     *
     * @throws FileAlreadyExistsException when {@code file} exists
     */
    public static SecretBox generate(Path file) throws IOException {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        char[] line = (Base64.getEncoder().encodeToString(key) + "\n").toCharArray();
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            try (FileChannel ch = create(file); Writer w = Channels.newWriter(ch, StandardCharsets.US_ASCII)) {
                w.write(line);
            }
            return new SecretBox(key);
        } finally {
            Arrays.fill(key, (byte) 0);
            Arrays.fill(line, '\0');
        }
    }

    private static FileChannel create(Path file) throws IOException {
        Set<StandardOpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            return FileChannel.open(file, options, PosixFilePermissions.asFileAttribute(
                    EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
        } catch (UnsupportedOperationException e) {
            log.warn("secrets: cannot restrict permissions of {} on this file system", file);
            return FileChannel.open(file, options);
        }
    }

    /**
     * Reads a key file (one base64 line of 32 bytes).
     *
     * @param setting the setting or option that named the file, for the error
     * @throws ConfigException naming {@code setting} when the file cannot be read or holds no valid key
     */
    public static SecretBox readKeyFile(Path file, String setting) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new ConfigException(setting, "cannot read the key file '" + file + "': " + e.getMessage(), e);
        }
        byte[] key = decode(setting, text);
        try {
            return new SecretBox(key);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** "is readable by group or others (mode 0644)" when the file's mode allows more than its owner; else empty. */
    public static Optional<String> permissionProblem(Path file) {
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
            Set<PosixFilePermission> others = EnumSet.copyOf(p);
            others.removeAll(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                    PosixFilePermission.OWNER_EXECUTE));
            return others.isEmpty() ? Optional.empty()
                    : Optional.of("is readable or writable by group or others (" + PosixFilePermissions.toString(p) + ")");
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    private static byte[] decode(String key, String base64) {
        byte[] b;
        try {
            b = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, "the secrets key is not valid base64");
        }
        if (b.length != 32) {
            Arrays.fill(b, (byte) 0);
            throw new ConfigException(key, "the secrets key must decode to 32 bytes (AES-256), got " + b.length);
        }
        return b;
    }

    /** As {@link #verifyAgainst(Store, SecretBox, String)} for a key from {@code secrets.key-file}. */
    public static void verifyAgainst(Store store, SecretBox box) {
        verifyAgainst(store, box, "secrets.key-file");
    }

    /**
     * Records the key's fingerprint on first use, or verifies it.
     *
     * @param setting where the key came from ({@link #source}), named in the error
     * @throws ConfigException when the database was set up with another key, or its key was rotated away from
     *                         this one
     */
    public static void verifyAgainst(Store store, SecretBox box, String setting) {
        String fp = box.fingerprint();
        // several nodes may start at once on a new database: the first fingerprint wins, the others compare
        int inserted = store.inTransaction(s -> s.createNativeMutationQuery(
                        "INSERT INTO secret_key_check (key_id, fingerprint) VALUES (:id, :fp) ON CONFLICT DO NOTHING")
                .setParameter("id", CHECK_ID).setParameter("fp", fp).executeUpdate());
        if (inserted > 0) {
            log.info("secrets: recorded the secrets key fingerprint {} in the database", fp);
        }
        store.inTransaction(s -> s.doReturningWork(c -> {
            String current = Jdbc.query(c, "SELECT fingerprint FROM secret_key_check WHERE key_id = ?",
                    rs -> rs.getString(1), CHECK_ID).get(0);
            if (current.equals(fp)) {
                return null;
            }
            Optional<Instant> replacedAt = Jdbc.query(c, """
                    SELECT rotated_at FROM secret_key_rotation WHERE old_fingerprint = ? ORDER BY id DESC LIMIT 1""",
                    rs -> rs.getTimestamp(1).toInstant(), fp).stream().findFirst();
            if (replacedAt.isPresent()) {
                throw new ConfigException(setting, "the configured secrets key (fingerprint " + fp + ") was replaced"
                        + " by 'certfleet keys rotate' at " + replacedAt.get() + "; the database's private keys are now"
                        + " encrypted with the key of fingerprint " + current + ". " + howToSwitch(setting)
                        + " and start again; the old key only opens database backups made before the rotation");
            }
            throw new ConfigException(setting, "the configured secrets key (fingerprint " + fp
                    + ") is not the key this database's private keys were encrypted with (fingerprint "
                    + current + "); restore the right key file or CERTFLEET_SECRETS_KEY");
        }));
    }

    /** What an operator changes on a node to give it the new key, for messages. */
    public static String howToSwitch(String setting) {
        return setting.equals("secrets.key")
                ? "Set secrets.key (CERTFLEET_SECRETS_KEY) on this node to the new key (the content of the new key file)"
                : "Point secrets.key-file on this node at the new key file (or set CERTFLEET_SECRETS_KEY to its content)";
    }

    /**
     * True while {@code box} is the key the database records (a running process checks this to notice that
     * {@code certfleet keys rotate} replaced its key); also true when no key is recorded yet.
     */
    public static boolean isCurrent(Store store, SecretBox box) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c,
                        "SELECT fingerprint FROM secret_key_check WHERE key_id = ?", rs -> rs.getString(1), CHECK_ID)
                .stream().allMatch(box.fingerprint()::equals)));
    }

    /**
     * The fence every write of a ciphertext passes, first thing in its transaction: locks the recorded
     * fingerprint (so a rotation waits for this transaction, and this transaction for a running rotation) and
     * refuses a ciphertext of another key. A process still running with a key that {@code keys rotate} replaced
     * therefore cannot store a secret that nobody could decrypt once the old key is gone. Passes when no key is
     * recorded (a database that no process has opened through {@link #verifyAgainst}).
     *
     * @throws SecretBox.WrongKeyException naming {@code subject} when the ciphertext is not of the recorded key
     */
    static void requireCurrent(Connection c, byte[] ciphertext, String subject) throws SQLException {
        Optional<String> recorded = Jdbc.query(c,
                "SELECT fingerprint FROM secret_key_check WHERE key_id = ? FOR SHARE", rs -> rs.getString(1), CHECK_ID)
                .stream().findFirst();
        if (recorded.isEmpty()) {
            return;
        }
        String needed = recorded.get().substring(0, 16);
        String given = SecretBox.keyIdOf(ciphertext).orElse("none (format 1)");
        if (!needed.equals(given)) {
            throw new SecretBox.WrongKeyException(subject + ": not stored, it is encrypted with the secrets key with id "
                    + given + " but the database's key now has id " + needed + " (was the key rotated with 'certfleet"
                    + " keys rotate' while this process ran? restart it with the new key in secrets.key-file or"
                    + " CERTFLEET_SECRETS_KEY)", needed, given);
        }
    }
}
