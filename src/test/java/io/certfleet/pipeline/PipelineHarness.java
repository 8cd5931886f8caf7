package io.certfleet.pipeline;

import io.certfleet.testsupport.TestDatabase;
import io.certfleet.testsupport.acme.BoulderProxy;
import io.certfleet.testsupport.acme.PebbleEnvironment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.testsupport.Cli;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The real parts a pipeline test runs against: two Debian Pebbles (staging behind a Boulder-behaviour proxy that
 * injects Let's Encrypt's failure shapes, production behind a counting proxy), pebble-challtestsrv as the DNS of
 * both the CAs and certfleet's pre-check, and the shared embedded PostgreSQL.
 */
public final class PipelineHarness implements AutoCloseable {
    public final TestDatabase db = TestDatabase.get();
    public final int responderPort = TestDatabase.freePort();
    public final PebbleEnvironment pebbles;
    public final BoulderProxy staging;
    public final BoulderProxy production;
    public final Path caFile;

    public PipelineHarness() throws IOException {
        this(Map.of());
    }

    /** @param pebbleEnv extra environment of both Pebbles (e.g. {@code PEBBLE_WFE_NONCEREJECT}) */
    public PipelineHarness(Map<String, String> pebbleEnv) throws IOException {
        pebbles = PebbleEnvironment.start(responderPort, pebbleEnv);
        staging = BoulderProxy.start(pebbles.staging(), pebbles.pki());
        production = BoulderProxy.start(pebbles.production(), pebbles.pki());
        caFile = Files.createTempFile("certfleet-test-ca", ".pem");
        Files.writeString(caFile, pebbles.caPem());
    }

    /** {@code --set} overrides that point certfleet at these parts. */
    public Map<String, String> overrides() {
        Map<String, String> m = new LinkedHashMap<>(db.overrides());
        m.put("acme.staging.directory", staging.directory().toString());
        m.put("acme.production.directory", production.directory().toString());
        m.put("acme.trusted-ca-file", caFile.toString());
        m.put("acme.terms-agreed", "true");
        m.put("http01.bind", "127.0.0.1");
        m.put("http01.port", Integer.toString(responderPort));
        m.put("precheck.resolvers", "127.0.0.1:" + pebbles.dnsPort());
        m.put("precheck.sweep", "false"); // challtestsrv answers NOTIMP to NS queries
        m.put("precheck.canary", "example");
        m.put("pipeline.poll-interval", "PT0.5S");
        m.put("acme.staging.requests-per-second", "500"); // Pebble has no per-IP limit
        m.put("pipeline.authz-reuse-margin", "PT1M"); // Pebble's valid authorizations live 1 h
        m.put("acme.production.requests-per-second", "500");
        return m;
    }

    /** Between tests: empties the database, drops every rule the proxies were given and zeroes their counts. */
    public void reset() {
        db.clean();
        staging.clearRules();
        production.clearRules();
        staging.resetCounts();
        production.resetCounts();
    }

    /** {@link #overrides()} plus {@code extra}. */
    public Map<String, String> overrides(Map<String, String> extra) {
        Map<String, String> o = new HashMap<>(overrides());
        o.putAll(extra);
        return o;
    }

    /** Imports these lines through the real CLI and checks that every one was accepted. */
    public void importLines(List<String> lines) {
        String text = String.join("\n", lines) + "\n";
        Cli.Result r = Cli.run(overrides(), new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)),
                "import", "-");
        org.assertj.core.api.Assertions.assertThat(r.exitCode()).as(r.err()).isZero();
    }

    /** {@code run --once --format json} through the real CLI with {@code extra} settings; its summary. */
    public JsonNode runOnce(Map<String, String> extra) throws IOException {
        Cli.Result r = Cli.run(overrides(extra), null, "run", "--once", "--format", "json");
        org.assertj.core.api.Assertions.assertThat(r.out()).as(r.err()).isNotBlank();
        return new ObjectMapper().readTree(r.out());
    }

    /** Runs one statement on a pooled connection and gives the connection back (the pool is shared by every IT). */
    public void execute(String sql) throws SQLException {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    public long count(String sql) throws SQLException {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public Map<String, Long> countBy(String sql) throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        staging.close();
        production.close();
        pebbles.close();
        Files.deleteIfExists(caFile);
    }
}
