package io.certfleet.store;

import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code db.url}: certfleet uses the PostgreSQL server it names (here the tests' server, reached as any external
 * one would be: URL, user, password) and starts no embedded server of its own.
 */
class ExternalDatabaseIT {
    private final TestDatabase db = TestDatabase.get();

    @Test
    void withAJdbcUrlTheCommandsUseThatServerAndStartNoEmbeddedOne(@TempDir Path dataDir) throws Exception {
        db.clean();
        String password = Files.readString(db.passwordFile()).lines().filter(l -> !l.startsWith("#")).findFirst()
                .orElseThrow();
        password = password.split(":", 5)[4]; // libpq password file: host:port:database:user:password
        Map<String, String> external = Map.of("data.dir", dataDir.toString(),
                "db.url", "jdbc:postgresql://127.0.0.1:" + db.port + "/postgres", "db.user", "postgres",
                "db.password", password);

        Cli.Result imported = Cli.run(external, new ByteArrayInputStream(
                "a.external.example\nb.external.example\nnot a name\n".getBytes(StandardCharsets.UTF_8)), "import", "-");
        assertThat(imported.exitCode()).as(imported.err()).isEqualTo(1); // one bad line
        Cli.Result status = Cli.run(external, null, "status", "--format", "json");
        assertThat(status.exitCode()).as(status.err()).isZero();
        assertThat(status.out()).contains("\"total\":2");
        try (var c = db.database.dataSource().getConnection(); var st = c.createStatement();
             var rs = st.executeQuery("SELECT count(*) FROM domain WHERE name LIKE '%.external.example'")) {
            rs.next();
            assertThat(rs.getLong(1)).as("the rows are in the server db.url names").isEqualTo(2);
        }
        assertThat(dataDir.resolve("postgres")).as("no embedded data directory").doesNotExist();
        assertThat(status.err()).doesNotContain("embedded PostgreSQL");

        Cli.Result wrong = Cli.run(Map.of("data.dir", dataDir.toString(),
                "db.url", "jdbc:postgresql://127.0.0.1:" + db.port + "/postgres", "db.user", "postgres",
                "db.password", "not-the-password"), null, "status");
        assertThat(wrong.exitCode()).isNotZero();
        assertThat(wrong.err()).contains("password").doesNotContain("not-the-password");
    }
}
