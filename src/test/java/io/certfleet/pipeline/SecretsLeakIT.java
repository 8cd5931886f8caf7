package io.certfleet.pipeline;

import io.certfleet.model.CaEnvironment;
import io.certfleet.store.AccountStore;
import io.certfleet.store.CertificateStore;
import io.certfleet.store.SecretBox;
import io.certfleet.testsupport.ChildJvm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 8 (secrets): a whole cycle against the Pebbles in a child JVM logging at DEBUG; its logs and a
 * {@code pg_dump} of the database hold no private key (account or certificate, PEM, base64 or hex) and not the
 * secrets key. A wrong secrets key fails at start with exit code 2 and changes nothing.
 */
class SecretsLeakIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static PipelineHarness h;

    @BeforeAll
    static void start() throws Exception {
        h = new PipelineHarness();
        h.db.clean();
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    private static Path debugLogback() throws Exception {
        Path f = Files.createTempFile("certfleet-logback-debug", ".xml");
        Files.writeString(f, """
                <configuration>
                  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
                    <target>System.err</target>
                    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger - %msg%n</pattern></encoder>
                  </appender>
                  <logger name="org.hibernate" level="INFO"/>
                  <logger name="com.zaxxer.hikari" level="INFO"/>
                  <logger name="org.quartz" level="INFO"/>
                  <root level="DEBUG"><appender-ref ref="STDERR"/></root>
                </configuration>
                """);
        return f;
    }

    @Test
    void neitherTheLogsOfAWholeRunNorAPgDumpHoldAPrivateKeyOrTheSecretsKey() throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        String keyBase64 = Base64.getEncoder().encodeToString(key);
        Map<String, String> env = Map.of("CERTFLEET_SECRETS_KEY", keyBase64);
        Path logback = debugLogback();
        Path names = Files.createTempFile("certfleet-secrets", ".txt");
        Files.writeString(names, "a.secrets.example\nb.secrets.example,cust\nc.secrets.example,cust\n");

        StringBuilder logs = new StringBuilder();
        ChildJvm.Result imported = ChildJvm.of(env).jvm("-Dlogback.configurationFile=" + logback)
                .overrides(h.overrides()).args("import", names.toString()).run(TIMEOUT);
        assertThat(imported.exitCode()).as(imported.err()).isZero();
        logs.append(imported.out()).append(imported.err());
        ChildJvm.Result run = ChildJvm.of(env).jvm("-Dlogback.configurationFile=" + logback)
                .overrides(h.overrides()).args("run", "--once", "--format", "json").run(TIMEOUT);
        assertThat(run.exitCode()).as(run.err()).isZero();
        logs.append(run.out()).append(run.err());
        assertThat(run.err()).as("DEBUG logging was on").contains(" DEBUG ");
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(3);

        // what must not leak: every stored private key, read back with the secrets key
        SecretBox box = new SecretBox(key);
        List<char[]> keys = new ArrayList<>();
        var accounts = new AccountStore(h.db.store, box);
        for (var row : h.countBy("SELECT environment || ' ' || directory_url, 1 FROM acme_account").keySet()) {
            String[] parts = row.split(" ", 2);
            keys.add(accounts.find(CaEnvironment.fromWire(parts[0]), parts[1]).orElseThrow().keyPem());
        }
        var certificates = new CertificateStore(h.db.store, box);
        for (var id : h.countBy("SELECT id::text, 1 FROM certificate").keySet()) {
            keys.add(certificates.privateKey(Long.parseLong(id)));
        }
        assertThat(keys).as("two accounts and one certificate").hasSize(3);
        Map<String, String> secrets = new LinkedHashMap<>();
        secrets.put("the secrets key (base64)", keyBase64);
        secrets.put("the secrets key (hex)", HexFormat.of().formatHex(key));
        secrets.put("a PEM private key header", "PRIVATE KEY");
        // the embedded server's superuser password (the pgpass line's last field): the child read it to connect
        secrets.put("the embedded database's password", Files.readAllLines(h.db.passwordFile()).stream()
                .filter(l -> l.startsWith("127.0.0.1:")).findFirst().orElseThrow().split(":", 5)[4]);
        secrets.put("a PEM private key header (hex)", HexFormat.of().formatHex("PRIVATE KEY".getBytes(StandardCharsets.US_ASCII)));
        for (int k = 0; k < keys.size(); k++) {
            String pem = new String(keys.get(k));
            assertThat(pem).contains("PRIVATE KEY");
            List<String> body = pem.lines().filter(l -> !l.startsWith("-----") && l.length() >= 16).toList();
            for (int i = 0; i < body.size(); i++) {
                secrets.put("key " + k + " base64 line " + i, body.get(i));
            }
            byte[] der = Base64.getMimeDecoder().decode(String.join("", body));
            for (int off = 32; off + 16 <= der.length; off += 16) {
                secrets.put("key " + k + " DER bytes " + off + " (hex)",
                        HexFormat.of().formatHex(der, off, off + 16));
            }
        }

        String dump = pgDump();
        assertThat(dump).as("the dump really holds the run").contains("a.secrets.example", "BEGIN CERTIFICATE");
        List<String> leaks = new ArrayList<>();
        String logText = logs.toString();
        String dumpLower = dump.toLowerCase(java.util.Locale.ROOT);
        secrets.forEach((what, value) -> {
            if (logText.contains(value)) {
                leaks.add(what + " is in the logs");
            }
            if (dump.contains(value) || (what.contains("hex") && dumpLower.contains(value))) {
                leaks.add(what + " is in the pg_dump");
            }
        });
        assertThat(leaks).isEmpty();
        System.out.printf("SecretsLeakIT: %d secret strings checked against %,d bytes of DEBUG logs and a %,d-byte "
                + "pg_dump%n", secrets.size(), logText.length(), dump.length());
    }

    @Test
    void aWrongSecretsKeyFailsAtStartWithExitCode2AndChangesNothing() throws Exception {
        byte[] right = new byte[32];
        new SecureRandom().nextBytes(right);
        h.db.clean();
        Path names = Files.createTempFile("certfleet-secrets", ".txt");
        Files.writeString(names, "x.wrongkey.example\n");
        ChildJvm.Result first = ChildJvm.of(Map.of("CERTFLEET_SECRETS_KEY", Base64.getEncoder().encodeToString(right)))
                .overrides(h.overrides()).args("import", names.toString()).run(TIMEOUT);
        assertThat(first.exitCode()).as(first.err()).isZero();
        String before = snapshot();

        byte[] wrong = new byte[32];
        new SecureRandom().nextBytes(wrong);
        Files.writeString(names, "y.wrongkey.example\n");
        for (String[] cmd : List.of(new String[] {"import", names.toString()}, new String[] {"run", "--once"})) {
            ChildJvm.Result r = ChildJvm.of(Map.of("CERTFLEET_SECRETS_KEY", Base64.getEncoder().encodeToString(wrong)))
                    .overrides(h.overrides()).args(cmd).run(TIMEOUT);
            assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains("secrets.key", "not the key this database's private keys were encrypted with")
                    .doesNotContain("\tat ");
            assertThat(snapshot()).as("%s changed nothing", cmd[0]).isEqualTo(before);
        }
    }

    /** Row counts and the recorded key fingerprint: what a start with the wrong key must not change. */
    private static String snapshot() throws Exception {
        try (Connection c = h.db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM domain), (SELECT count(*) FROM batch),"
                     + " (SELECT count(*) FROM acme_account), (SELECT count(*) FROM precheck_run),"
                     + " (SELECT string_agg(fingerprint, ',') FROM secret_key_check),"
                     + " (SELECT string_agg(name, ',') FROM domain)")) {
            rs.next();
            return rs.getLong(1) + "/" + rs.getLong(2) + "/" + rs.getLong(3) + "/" + rs.getLong(4) + "/"
                    + rs.getString(5) + "/" + rs.getString(6);
        }
    }

    private static String pgDump() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("pg_dump", "-h", "127.0.0.1", "-p", Integer.toString(h.db.port), "-U", "postgres",
                "postgres");
        pb.environment().put("PGPASSFILE", h.db.passwordFile().toString()); // the server requires its password
        Process p = pb.redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("pg_dump failed: %s", text).isZero();
        return text;
    }
}
