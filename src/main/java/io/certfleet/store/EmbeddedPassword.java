package io.certfleet.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The password of the embedded PostgreSQL's superuser {@code postgres}, kept next to its data directory in
 * {@code <data-dir>.pass} (by default {@code data/postgres.pass}), mode 0600, in libpq's password-file format:
 * <pre>
 * 127.0.0.1:*:*:postgres:PASSWORD
 * localhost:*:*:postgres:PASSWORD
 * </pre>
 * so an operator connects with {@code PGPASSFILE=data/postgres.pass psql -h 127.0.0.1 -p 54329 -U postgres postgres}
 * without the password appearing on a command line. Every certfleet process reads it to connect.
 */
final class EmbeddedPassword {
    static final String USER = "postgres";
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE);

    private EmbeddedPassword() {
    }

    /** {@code data/postgres} → {@code data/postgres.pass}. */
    static Path fileFor(Path dataDir) {
        Path absolute = dataDir.toAbsolutePath().normalize();
        return absolute.resolveSibling(absolute.getFileName() + ".pass");
    }

    /** The password stored in {@code file}, if the file exists; tightens a file others can read to 0600. */
    static Optional<String> read(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            tighten(file);
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (String line : lines) {
                String l = line.strip();
                if (l.isEmpty() || l.startsWith("#")) {
                    continue;
                }
                String[] fields = l.split(":", 5);
                if (fields.length == 5 && fields[3].equals(USER) && !fields[4].isEmpty()) {
                    return Optional.of(fields[4].replace("\\:", ":").replace("\\\\", "\\"));
                }
            }
            throw new IllegalStateException(file + " holds no line 'host:port:database:postgres:PASSWORD' "
                    + "(the embedded PostgreSQL's password file, libpq password-file format)");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the embedded PostgreSQL's password file " + file + ": "
                    + e.getMessage(), e);
        }
    }

    /** Generates a new random password into {@code file} (created 0600, written atomically) and returns it. */
    static String create(Path file) {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        // base64url: no ':' or '\', so the pgpass line needs no escaping
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        String text = "# certfleet: password of the embedded PostgreSQL's superuser (libpq password-file format).\n"
                + "# Use: PGPASSFILE=" + file + " psql -h 127.0.0.1 -p PORT -U postgres postgres\n"
                + "# Back it up together with secrets.key.\n"
                + "127.0.0.1:*:*:" + USER + ":" + password + "\n"
                + "localhost:*:*:" + USER + ":" + password + "\n";
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            return password;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the embedded PostgreSQL's password file " + file + ": "
                    + e.getMessage(), e);
        }
    }

    private static void tighten(Path file) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (!OWNER_ONLY.containsAll(perms)) {
            Files.setPosixFilePermissions(file, OWNER_ONLY);
            org.slf4j.LoggerFactory.getLogger(EmbeddedPassword.class).warn(
                    "database: {} was readable by others ({}); set it to 0600 (libpq ignores a password file others "
                            + "can read)", file, PosixFilePermissions.toString(perms));
        }
    }
}
