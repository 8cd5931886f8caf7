package io.certfleet.intake;

import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.IDN;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 6 (bad input): 10,000 generated malformed and hostile lines mixed with 2,000 good ones, imported from a
 * file through the real {@code import} command into the embedded PostgreSQL. Every bad line is reported with its
 * line number and the expected cause, every good line is stored with exactly its normalised name and customer, and
 * the database is unharmed.
 */
class HostileImportIT {
    private static final int BAD = 10_000;
    private static final int GOOD = 2_000;
    private static final Pattern REJECTED = Pattern.compile("^rejected line (\\d+): (.*) \\[([A-Z0-9_]+)\\]$");

    private final TestDatabase db = TestDatabase.get();

    /** One generated line: its bytes (without terminator) and what the import must make of it. */
    private record Line(byte[] bytes, String expectCause, String expectName, String expectCustomer, boolean skip) {
        static Line bad(String text, String cause) {
            return bad(text.getBytes(StandardCharsets.UTF_8), cause);
        }

        static Line bad(byte[] bytes, String cause) {
            return new Line(bytes, cause, null, null, false);
        }

        static Line good(String text, String name, String customer) {
            return new Line(text.getBytes(StandardCharsets.UTF_8), null, name, customer, false);
        }

        static Line skipped(String text) {
            return new Line(text.getBytes(StandardCharsets.UTF_8), null, null, null, true);
        }
    }

    @BeforeEach
    void clean() {
        db.clean();
    }

    private static byte[] concat(byte[]... parts) {
        var out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The hostile kinds, each a function of a running number to one bad line with the cause it must get. */
    private static final List<IntFunction<Line>> HOSTILE = List.of(
            i -> Line.bad("l" + "a".repeat(64 + i % 150) + ".example", "LABEL_TOO_LONG"),
            i -> Line.bad(String.join(".", java.util.Collections.nCopies(5, "n" + i + "x".repeat(50))) + ".example",
                    "NAME_TOO_LONG"),
            i -> Line.bad("ctl" + i + (char) (1 + i % 8) + "x.example", "INVALID_CHARACTER"),
            i -> Line.bad("\u001b[31mred" + i + ".example\u001b[0m", "INVALID_CHARACTER"),
            i -> Line.bad("del" + i + "\u007f.example", "INVALID_CHARACTER"),
            i -> Line.bad("nul" + i + ".example\u0000", "INVALID_CHARACTER"),
            i -> Line.bad("\u0000", "INVALID_CHARACTER"),
            i -> Line.bad("x" + i + "'; DROP TABLE domain; --", "INVALID_CHARACTER"),
            i -> Line.bad("robert" + i + "');DELETE FROM domain WHERE 1=1;--.example", "INVALID_CHARACTER"),
            i -> Line.bad("a" + i + ".example' OR '1'='1", "INVALID_CHARACTER"),
            i -> Line.bad("s" + i + ".example;SELECT pg_sleep(10)", "INVALID_CHARACTER"),
            i -> Line.bad("$(rm -rf /)" + i + ".example", "INVALID_CHARACTER"),
            i -> Line.bad("moc.elpmaxe" + i + "\u202e", "INVALID_IDN"),
            i -> Line.bad("exa" + i + "\u3000mple.com", "INVALID_CHARACTER"),
            i -> Line.bad("pa" + i + "y\u2028pal.com", "INVALID_CHARACTER"),
            i -> Line.bad("ab--" + i + ".example", "INVALID_CHARACTER"),
            i -> Line.bad("under_score" + i + ".example", "INVALID_CHARACTER"),
            i -> Line.bad("-lead" + i + ".example", "INVALID_CHARACTER"),
            i -> Line.bad("a" + i + "..example", "EMPTY_LABEL"),
            i -> Line.bad("." + i + "example.com", "EMPTY_LABEL"),
            i -> Line.bad("10." + (i % 256) + ".0.1", "IP_ADDRESS"),
            i -> Line.bad("[::" + Integer.toHexString(i) + "]", "IP_ADDRESS"),
            i -> Line.bad("a" + i + ".*.example", "WILDCARD_POSITION"),
            i -> Line.bad("**" + i + ".example", "WILDCARD_POSITION"),
            i -> Line.bad("tld" + i, "BARE_TLD"),
            i -> Line.bad("example" + i + ".123", "INVALID_CHARACTER"),
            i -> Line.bad("cr" + i + ".example\rinjected.example", "INVALID_CHARACTER"),
            i -> Line.bad("tab" + i + "\t.example", "INVALID_CHARACTER"),
            i -> Line.bad("huge" + i + "." + "b".repeat(4100 + i % 500), "LINE_TOO_LONG"),
            i -> Line.bad(concat(utf8("bad" + i), new byte[] {(byte) 0xff}, utf8(".example")), "INVALID_UTF8"),
            i -> Line.bad(concat(utf8("overlong" + i), new byte[] {(byte) 0xc0, (byte) 0xaf}, utf8(".example")),
                    "INVALID_UTF8"),
            i -> Line.bad(concat(utf8("surrogate" + i), new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
                    utf8(".example")), "INVALID_UTF8"),
            i -> Line.bad(concat(utf8("truncated" + i + ".example"), new byte[] {(byte) 0xe2, (byte) 0x82}),
                    "INVALID_UTF8"),
            i -> Line.bad("\"unterminated" + i + ".example", "CSV_SYNTAX"),
            i -> Line.bad("\"q" + i + ".example\"tail", "CSV_SYNTAX"),
            i -> Line.bad("in\"side" + i + ".example,c", "CSV_SYNTAX"),
            i -> Line.bad("f" + i + ".example,c,extra", "CSV_SYNTAX"),
            i -> Line.bad("\"\"\"quoted" + i + "\"\".example\"", "INVALID_CHARACTER"),
            i -> Line.bad("\"a" + i + ",b.example\",cust", "INVALID_CHARACTER"),
            i -> Line.bad(",cust" + i, "EMPTY"),
            i -> Line.bad("c" + i + ".example," + "z".repeat(201), "INVALID_CUSTOMER"),
            i -> Line.bad("c" + i + ".example,bad\u0007customer", "INVALID_CUSTOMER"),
            i -> Line.bad("\ufeff\u0001bom" + i + ".example", "INVALID_CHARACTER"));

    /** Good kinds: a line and the exact name and customer it must be stored with. */
    private static final List<IntFunction<Line>> GOOD_KINDS = List.of(
            i -> Line.good("g" + i + ".good.example", "g" + i + ".good.example", null),
            i -> Line.good("G" + i + ".Good.EXAMPLE.", "g" + i + ".good.example", null),
            i -> Line.good("  \tg" + i + ".good.example \t ", "g" + i + ".good.example", null),
            i -> Line.good("g" + i + ".good.example,\"x'); DROP TABLE domain;--\"", "g" + i + ".good.example",
                    "x'); DROP TABLE domain;--"),
            i -> Line.good("\"g" + i + ".good.example\",\"O\"\"Brien, Ltd. %s \\n\"", "g" + i + ".good.example",
                    "O\"Brien, Ltd. %s \\n"),
            i -> Line.good("g" + i + ".good.example,Zürich ☃ 株式会社", "g" + i + ".good.example", "Zürich ☃ 株式会社"),
            i -> Line.good("bücher" + i + ".good.example", IDN.toASCII("bücher" + i) + ".good.example", null),
            // Cyrillic 'а' and 'р' in an otherwise Latin label: a confusable, but a valid IDN (Let's Encrypt
            // issues for it), stored as its A-label, never as the Latin look-alike
            i -> Line.good("\u0440\u0430ypal" + i + ".good.example",
                    IDN.toASCII("\u0440\u0430ypal" + i).toLowerCase(Locale.ROOT) + ".good.example", null),
            i -> Line.good("g" + i + "\u3002good\uff0eexample", "g" + i + ".good.example", null),
            // a BOM in the middle of the file (two files concatenated): IDNA maps U+FEFF to nothing
            i -> Line.good("\ufeffg" + i + ".good.example", "g" + i + ".good.example", null),
            i -> Line.good("*.w" + i + ".good.example", "*.w" + i + ".good.example", null));

    @Test
    void tenThousandHostileLinesAreEachReportedAndEveryGoodLineIsKeptExactly() throws Exception {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO domain (name, input, customer) VALUES ('sentinel.example', 'sentinel.example', 'keep')");
        }
        Random random = new Random(6);
        List<Line> lines = new ArrayList<>();
        int bad = 0;
        int good = 0;
        while (bad < BAD || good < GOOD) {
            int roll = random.nextInt(BAD + GOOD + 200);
            if (roll < 200) {
                lines.add(Line.skipped(List.of("", "   ", "# a comment; DROP TABLE domain", "\t").get(roll % 4)));
            } else if ((roll < BAD + 200 && bad < BAD) || good >= GOOD) {
                lines.add(HOSTILE.get(bad % HOSTILE.size()).apply(bad));
                bad++;
            } else {
                lines.add(GOOD_KINDS.get(good % GOOD_KINDS.size()).apply(good));
                good++;
            }
        }
        // one line of 1 MB, with a NUL and invalid UTF-8 inside it, in the middle of the file
        byte[] mega = ("m." + "x".repeat(1 << 20)).getBytes(StandardCharsets.US_ASCII);
        mega[1000] = 0;
        mega[2000] = (byte) 0xff;
        lines.add(lines.size() / 2, Line.bad(mega, "LINE_TOO_LONG"));
        // the last line has no terminator at all
        lines.add(Line.good("last.good.example", "last.good.example", null));

        var file = new ByteArrayOutputStream();
        file.writeBytes(new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf}); // a BOM at the start, as editors write it
        Map<Long, Line> expectedBad = new TreeMap<>();
        Map<String, String> expectedGood = new HashMap<>(); // name -> customer ("" for none)
        long skipped = 0;
        for (int n = 0; n < lines.size(); n++) {
            Line l = lines.get(n);
            file.writeBytes(l.bytes());
            if (n < lines.size() - 1) {
                file.writeBytes(utf8(n % 3 == 0 ? "\r\n" : "\n"));
            }
            if (l.skip()) {
                skipped++;
            } else if (l.expectCause() != null) {
                expectedBad.put(n + 1L, l);
            } else {
                assertThat(expectedGood.put(l.expectName(), l.expectCustomer() == null ? "" : l.expectCustomer()))
                        .as("generator made a duplicate").isNull();
            }
        }
        Path input = Files.createTempFile("certfleet-hostile", ".txt");
        Files.write(input, file.toByteArray());

        Cli.Result r = Cli.run(db.overrides(), null, "import", input.toString(), "--format", "json");
        Files.deleteIfExists(input);

        assertThat(r.exitCode()).as("exit 1: lines were rejected; stderr tail: %s", tail(r.err())).isEqualTo(1);
        var summary = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertThat(summary.get("lines").asLong()).isEqualTo(lines.size());
        assertThat(summary.get("rejected").asLong()).isEqualTo(expectedBad.size());
        assertThat(summary.get("added").asLong()).isEqualTo(expectedGood.size());
        assertThat(summary.get("skipped").asLong()).isEqualTo(skipped);
        assertThat(summary.get("duplicates").asLong()).isZero();

        // every bad line is reported exactly once, with its number and the cause its kind must get
        Map<Long, String> reported = new TreeMap<>();
        for (String errLine : r.err().split("\n")) {
            if (!errLine.startsWith("rejected ")) {
                continue;
            }
            Matcher m = REJECTED.matcher(errLine);
            assertThat(m.matches()).as("report format: %s", errLine).isTrue();
            assertThat(errLine.codePoints().filter(ch -> Character.isISOControl(ch) || Character.getType(ch) == Character.FORMAT).count())
                    .as("a report carries no raw control character: %s", errLine).isZero();
            assertThat(reported.put(Long.parseLong(m.group(1)), m.group(3))).as("reported twice: %s", errLine).isNull();
        }
        Map<Long, String> expectedCauses = new TreeMap<>();
        expectedBad.forEach((n, l) -> expectedCauses.put(n, l.expectCause()));
        List<String> wrong = new ArrayList<>();
        for (long n : new java.util.TreeSet<>(union(reported.keySet(), expectedCauses.keySet()))) {
            if (!java.util.Objects.equals(reported.get(n), expectedCauses.get(n)) && wrong.size() < 20) {
                Line l = lines.get((int) n - 1);
                wrong.add("line " + n + " expected " + expectedCauses.get(n) + " reported " + reported.get(n) + ": "
                        + DomainImporter.printable(new String(l.bytes(), 0, Math.min(60, l.bytes().length),
                        StandardCharsets.UTF_8)));
            }
        }
        assertThat(wrong).as("lines reported differently from their kind").isEmpty();
        assertThat(reported).isEqualTo(expectedCauses);
        assertThat(r.err()).as("no stack trace").doesNotContain("\tat ", "Exception in thread");

        // the database holds exactly the good names (and the row that was there before), with their customers
        Map<String, String> stored = new HashMap<>();
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT identifier, coalesce(customer, ''), state FROM domain")) {
            while (rs.next()) {
                stored.put(rs.getString(1), rs.getString(2));
                assertThat(rs.getString(3)).isEqualTo("pending");
            }
        }
        Map<String, String> expectedRows = new HashMap<>(expectedGood);
        expectedRows.put("sentinel.example", "keep");
        assertThat(stored).isEqualTo(expectedRows);
        assertThat(stored.keySet()).allSatisfy(n -> assertThat(n).matches("(\\*\\.)?[a-z0-9.-]+"));
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_regclass('public.domain') IS NOT NULL, "
                     + "(SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND pid <> pg_backend_pid())")) {
            rs.next();
            assertThat(rs.getBoolean(1)).as("domain table still there").isTrue();
            assertThat(rs.getLong(2)).isZero();
        }
        System.out.printf("HostileImportIT: %d lines (%d bad in %d kinds, %d good, %d skipped, one of 1 MB): "
                        + "import took %d ms%n", lines.size(), expectedBad.size(), HOSTILE.size(), expectedGood.size(),
                skipped, summary.get("elapsed_ms").asLong());
    }

    private static java.util.Set<Long> union(java.util.Set<Long> a, java.util.Set<Long> b) {
        var u = new java.util.HashSet<>(a);
        u.addAll(b);
        return u;
    }

    private static String tail(String s) {
        return s.length() < 3000 ? s : s.substring(s.length() - 3000);
    }

    @SuppressWarnings("unused")
    private static String show(byte[] b) {
        return Arrays.toString(b);
    }
}
