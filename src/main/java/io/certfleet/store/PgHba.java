package io.certfleet.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The embedded server's {@code pg_hba.conf}. zonky's {@code initdb -A trust} writes {@code trust} for every local and
 * loopback connection; certfleet replaces the method {@code trust} on every rule with {@code scram-sha-256} and leaves
 * the rest of the file (comments, rules an operator added) as it is.
 */
final class PgHba {
    static final String SCRAM = "scram-sha-256";
    private static final Pattern FIELD = Pattern.compile("\\S+");
    private static final Pattern NETMASK = Pattern.compile("[0-9a-fA-F:.]*[.:][0-9a-fA-F:.]*");

    private PgHba() {
    }

    static Path fileIn(Path dataDir) {
        return dataDir.resolve("pg_hba.conf");
    }

    /** Whether any rule still lets a client in without a password. */
    static boolean trusts(Path dataDir) {
        return read(dataDir).stream().anyMatch(l -> trustAt(l) >= 0);
    }

    /** Rewrites every {@code trust} rule to {@code scram-sha-256}; returns how many rules changed. */
    static int requirePasswords(Path dataDir) {
        List<String> out = new ArrayList<>();
        int changed = 0;
        for (String line : read(dataDir)) {
            int at = trustAt(line);
            if (at >= 0) {
                out.add(line.substring(0, at) + SCRAM + line.substring(at + "trust".length()));
                changed++;
            } else {
                out.add(line);
            }
        }
        if (changed > 0) {
            Path file = fileIn(dataDir);
            Path tmp = file.resolveSibling("pg_hba.conf.certfleet-tmp");
            try {
                Files.write(tmp, out, StandardCharsets.UTF_8);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot rewrite " + file + ": " + e.getMessage(), e);
            }
        }
        return changed;
    }

    /**
     * Where the method field {@code trust} starts in a rule line, or -1. The method follows the type, database, user
     * and (for host rules) the address, which may be written as two fields, address and netmask.
     */
    static int trustAt(String line) {
        String rule = line.contains("#") ? line.substring(0, line.indexOf('#')) : line;
        List<int[]> fields = new ArrayList<>();
        Matcher m = FIELD.matcher(rule);
        while (m.find()) {
            fields.add(new int[] {m.start(), m.end()});
        }
        if (fields.isEmpty()) {
            return -1;
        }
        String type = field(rule, fields, 0);
        int method;
        if (type.equals("local")) {
            method = 3;
        } else if (type.startsWith("host")) {
            method = fields.size() > 4 && NETMASK.matcher(field(rule, fields, 4)).matches() ? 5 : 4;
        } else {
            return -1;
        }
        return fields.size() > method && field(rule, fields, method).equals("trust") ? fields.get(method)[0] : -1;
    }

    private static String field(String rule, List<int[]> fields, int i) {
        return rule.substring(fields.get(i)[0], fields.get(i)[1]);
    }

    private static List<String> read(Path dataDir) {
        Path file = fileIn(dataDir);
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
