package io.certfleet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.app.Certfleet;
import io.certfleet.store.KeyRotation;
import io.certfleet.store.SecretBox;
import io.certfleet.store.SecretKeys;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code certfleet keys generate|rotate|verify}: the secrets key that encrypts private keys at rest. The steps in
 * order are in docs/operations.md ("Rotate the encryption key"), the design in docs/decisions/0003-key-rotation.md.
 */
@Command(name = "keys", mixinStandardHelpOptions = true,
        description = "The secrets key that encrypts private keys at rest: generate a new one, rotate to it, verify.",
        subcommands = {KeysCommand.Generate.class, KeysCommand.Rotate.class, KeysCommand.Verify.class})
final class KeysCommand implements Callable<Integer> {
    /** How long a rotation waits for running writers of the secret tables before it gives up (changing nothing). */
    static final Duration LOCK_TIMEOUT = Duration.ofSeconds(30);

    @ParentCommand
    Main main;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return Main.USAGE;
    }

    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = "Write a new random secrets key (base64) to FILE, created with mode 0600. Never overwrites"
                    + " a file. Needs no database.")
    static final class Generate implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "FILE", description = "the key file to create")
        Path out;

        @Override
        public Integer call() throws IOException {
            SecretBox key;
            try {
                key = SecretKeys.generate(out);
            } catch (FileAlreadyExistsException e) {
                throw new UsageException(out + " already exists; a key file is never overwritten (it may hold the only"
                        + " copy of a key): choose another name");
            }
            System.out.println("wrote a new secrets key to " + out.toAbsolutePath() + " (mode 0600, fingerprint "
                    + key.fingerprint() + ")");
            System.out.println("next: back it up, then 'certfleet keys rotate --new-key-file " + out + "'"
                    + " (docs/operations.md, \"Rotate the encryption key\")");
            return Main.OK;
        }
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true,
            description = "Re-encrypt every stored private key from the configured secrets key to the key in FILE,"
                    + " in one transaction, and make the database accept only the new key. Run it with the current"
                    + " configuration; then give every node the new key and restart it.")
    static final class Rotate implements Callable<Integer> {
        @ParentCommand
        KeysCommand keys;

        @Option(names = "--new-key-file", required = true, paramLabel = "FILE",
                description = "the new key (from 'certfleet keys generate --out FILE')")
        Path newKeyFile;

        @CommandLine.Mixin
        TableOrJson output;

        @Override
        public Integer call() throws IOException {
            boolean json = output.json();
            SecretBox next = SecretKeys.readKeyFile(newKeyFile, "--new-key-file");
            SecretKeys.permissionProblem(newKeyFile).ifPresent(p -> System.err.println(
                    "certfleet keys rotate: warning: " + newKeyFile + " " + p + "; chmod 600 it"));
            try (Certfleet app = Certfleet.open(keys.main.loadSettings())) {
                KeyRotation.Report r;
                try {
                    r = KeyRotation.rotate(app.store(), app.secrets(), next, LOCK_TIMEOUT);
                } catch (KeyRotation.RotationException e) {
                    System.err.println("certfleet keys rotate: " + e.getMessage());
                    return Main.PROBLEMS;
                }
                String setting = SecretKeys.source(app.settings().secrets());
                var db = app.settings().database();
                String database = app.database().jdbcUrl()
                        + (db.embedded() ? " (embedded, " + db.embeddedDataDir().toAbsolutePath() + ")" : "");
                if (json) {
                    System.out.println(json(r, database));
                } else {
                    table(r, setting, database);
                }
                if (r.total() == 0) {
                    System.err.println("certfleet keys rotate: warning: " + database + " holds no"
                            + " secret at all; if the daemons use another database (data.dir is relative to the"
                            + " working directory), this rotation changed only this one");
                }
                return Main.OK;
            }
        }

        private void table(KeyRotation.Report r, String setting, String database) {
            System.out.printf("re-encrypted %d secrets in %s from key %s to key %s in one transaction (%d ms):%n",
                    r.total(), database, r.oldFingerprint(), r.newFingerprint(), r.took().toMillis());
            System.out.printf("  %-26s %6d%n", "ACME account keys", r.accounts());
            System.out.printf("  %-26s %6d%n", "pending certificate keys", r.pendingCertificateKeys());
            System.out.printf("  %-26s %6d%n", "certificate keys", r.certificates());
            System.out.println("The database now opens only with the new key (" + newKeyFile.toAbsolutePath()
                    + "). Next, on every node: " + SecretKeys.howToSwitch(setting) + " and restart certfleet. A node"
                    + " still running with the old key stops issuing until then (its /readyz says 'secrets key not"
                    + " ready'). Keep the old key as long as you keep database backups made before " + r.rotatedAt()
                    + ".");
        }

        private static String json(KeyRotation.Report r, String database) throws IOException {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("database", database);
            m.put("accounts", r.accounts());
            m.put("pending_certificate_keys", r.pendingCertificateKeys());
            m.put("certificates", r.certificates());
            m.put("old_fingerprint", r.oldFingerprint());
            m.put("new_fingerprint", r.newFingerprint());
            m.put("rotated_at", r.rotatedAt().toString());
            m.put("took_ms", r.took().toMillis());
            return new ObjectMapper().writeValueAsString(m);
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Decrypt every stored private key with the configured secrets key (nothing is written or"
                    + " shown); exit 1 if any does not decrypt.")
    static final class Verify implements Callable<Integer> {
        @ParentCommand
        KeysCommand keys;

        @CommandLine.Mixin
        TableOrJson output;

        @Override
        public Integer call() throws IOException {
            boolean json = output.json();
            try (Certfleet app = Certfleet.open(keys.main.loadSettings())) {
                KeyRotation.Verification v = KeyRotation.verify(app.store(), app.secrets());
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("fingerprint", v.fingerprint());
                    m.put("accounts", v.decrypted().get(KeyRotation.Kind.ACCOUNTS));
                    m.put("pending_certificate_keys", v.decrypted().get(KeyRotation.Kind.PENDING_CERTIFICATE_KEYS));
                    m.put("certificates", v.decrypted().get(KeyRotation.Kind.CERTIFICATES));
                    m.put("failed", v.failed());
                    m.put("failures", v.failures());
                    System.out.println(new ObjectMapper().writeValueAsString(m));
                } else {
                    System.out.printf("secrets that decrypt with key %s:%n", v.fingerprint());
                    System.out.printf("  %-26s %6d%n", "ACME account keys", v.decrypted().get(KeyRotation.Kind.ACCOUNTS));
                    System.out.printf("  %-26s %6d%n", "pending certificate keys",
                            v.decrypted().get(KeyRotation.Kind.PENDING_CERTIFICATE_KEYS));
                    System.out.printf("  %-26s %6d%n", "certificate keys", v.decrypted().get(KeyRotation.Kind.CERTIFICATES));
                    System.out.printf("  %-26s %6d%n", "do not decrypt", v.failed());
                    v.failures().forEach(f -> System.err.println("certfleet keys verify: " + f));
                    if (v.failed() > v.failures().size()) {
                        System.err.println("certfleet keys verify: ... and " + (v.failed() - v.failures().size())
                                + " more");
                    }
                }
                return v.ok() ? Main.OK : Main.PROBLEMS;
            }
        }
    }
}
