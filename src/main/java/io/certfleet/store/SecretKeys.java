package io.certfleet.store;

import io.certfleet.config.ConfigException;
import io.certfleet.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Loads the secrets key (inline setting, else key file, else a new key generated into the key file with a WARN)
 * and checks it against the fingerprint the database recorded the first time, so a wrong key fails loudly at
 * start instead of producing keys nobody can decrypt.
 */
public final class SecretKeys {
    private static final Logger log = LoggerFactory.getLogger(SecretKeys.class);

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
            }
            return new SecretBox(decode("secrets.key-file", Files.readString(file, StandardCharsets.US_ASCII).strip()));
        } catch (IOException e) {
            throw new ConfigException("secrets.key-file", "cannot read or create '" + file + "': " + e.getMessage(), e);
        }
    }

    private static void generate(Path file) throws IOException {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.writeString(file, Base64.getEncoder().encodeToString(key) + "\n", StandardCharsets.US_ASCII,
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            log.warn("secrets: cannot restrict permissions of {} on this file system", file);
        }
        log.warn("secrets: no secrets key was configured; generated a new one in {}. Back it up: without it the "
                + "private keys stored in the database cannot be decrypted", file.toAbsolutePath());
    }

    private static byte[] decode(String key, String base64) {
        byte[] b;
        try {
            b = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, "the secrets key is not valid base64");
        }
        if (b.length != 32) {
            throw new ConfigException(key, "the secrets key must decode to 32 bytes (AES-256), got " + b.length);
        }
        return b;
    }

    /**
     * Records the key's fingerprint on first use, or verifies it.
     *
     * @throws ConfigException when the database was set up with another key
     */
    public static void verifyAgainst(Store store, SecretBox box) {
        String fp = box.fingerprint();
        // several nodes may start at once on a new database: the first fingerprint wins, the others compare
        int inserted = store.inTransaction(s -> s.createNativeMutationQuery(
                        "INSERT INTO secret_key_check (key_id, fingerprint) VALUES ('default', :fp) ON CONFLICT DO NOTHING")
                .setParameter("fp", fp).executeUpdate());
        if (inserted > 0) {
            log.info("secrets: recorded the secrets key fingerprint {} in the database", fp);
        }
        store.inTransaction(s -> {
            SecretKeyCheckEntity row = s.find(SecretKeyCheckEntity.class, "default");
            if (!row.fingerprint.equals(fp)) {
                throw new ConfigException("secrets.key", "the configured secrets key (fingerprint " + fp
                        + ") is not the key this database's private keys were encrypted with (fingerprint "
                        + row.fingerprint + "); restore the right key file or CERTFLEET_SECRETS_KEY");
            }
            return null;
        });
    }
}
