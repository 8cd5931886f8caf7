package io.certfleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** import → status through the real CLI against the real embedded PostgreSQL. */
class ImportStatusIT {
    private final TestDatabase db = TestDatabase.get();
    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path dir;

    @BeforeEach
    void clean() {
        db.clean();
    }

    @Test
    void mixedFileThenStatusReportsTheRightCounts() throws IOException {
        Path f = dir.resolve("mixed.csv");
        Files.writeString(f, """
                name,customer
                Example.COM.,acme
                www.example.com,acme
                bücher.example,books
                *.wild.example.org,acme
                a..b.com
                com
                192.168.0.1
                www.example.com
                """);
        Cli.Result imp = Cli.run(db.overrides(), null, "import", f.toString(), "--format", "json");
        assertThat(imp.exitCode()).as(imp.err()).isEqualTo(1); // some lines were rejected
        JsonNode r = json.readTree(imp.out());
        assertThat(r.get("added").asLong()).isEqualTo(4);
        assertThat(r.get("rejected").asLong()).isEqualTo(3);
        assertThat(r.get("duplicates").asLong()).isEqualTo(1);
        assertThat(imp.err()).contains("line 6: a..b.com").contains("[EMPTY_LABEL]").contains("line 7: com")
                .contains("line 8: 192.168.0.1");

        Cli.Result again = Cli.run(db.overrides(), new ByteArrayInputStream(
                "example.com\nnew.example.com\n".getBytes(StandardCharsets.UTF_8)), "import", "-", "--format", "json");
        assertThat(again.exitCode()).isZero();
        assertThat(json.readTree(again.out()).get("already_known").asLong()).isEqualTo(1);

        Cli.Result status = Cli.run(db.overrides(), null, "status", "--format", "json");
        assertThat(status.exitCode()).as(status.err()).isZero();
        JsonNode s = json.readTree(status.out());
        assertThat(s.get("total").asLong()).isEqualTo(5);
        assertThat(s.get("states").get("pending").asLong()).isEqualTo(5);
        assertThat(s.get("states").get("quarantined").asLong()).isZero();
    }

    @Test
    void importsOneHundredThousandLinesInBulk() throws IOException {
        Path f = dir.resolve("big.txt");
        try (BufferedWriter w = Files.newBufferedWriter(f)) {
            for (int i = 0; i < 100_000; i++) {
                w.write("host" + i + ".customer" + (i / 50) + ".example\n");
            }
        }
        long t0 = System.nanoTime();
        Cli.Result imp = Cli.run(db.overrides(), null, "import", f.toString(), "--format", "json");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(imp.exitCode()).as(imp.err()).isZero();
        assertThat(json.readTree(imp.out()).get("added").asLong()).isEqualTo(100_000);
        assertThat(Cli.run(db.overrides(), null, "status", "--format", "json").out()).contains("\"pending\":100000");
        System.out.printf("100k-line import: %d ms (%.0f lines/s)%n", ms, 100_000 * 1000.0 / ms);
    }

    @Test
    void usageAndConfigurationErrorsExitWithTwo() {
        Cli.Result missing = Cli.run(db.overrides(), null, "import", dir.resolve("missing.txt").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("missing.txt").contains("no such file");
        // a directory is the wrong input, not a problem the import found: usage error (it was exit 1)
        Cli.Result directory = Cli.run(db.overrides(), null, "import", dir.toString());
        assertThat(directory.exitCode()).as(directory.err()).isEqualTo(2);
        assertThat(directory.err()).contains("certfleet import: cannot read '" + dir + "': it is a directory");
        assertThat(Cli.run(db.overrides(), null, "status", "--format", "xml").exitCode()).isEqualTo(2);
        assertThat(Cli.run(db.overrides(), null, "status", "--no-such-flag").exitCode()).isEqualTo(2);
        Cli.Result bad = Cli.run(java.util.Map.of("db.embedded.port", "seventy"), null, "status");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("db.embedded.port").contains("'seventy'");
    }
}
