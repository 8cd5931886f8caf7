package io.certfleet.cli;

import io.certfleet.testsupport.ChildJvm;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 6 (bad configuration): malformed configuration files and {@code CERTFLEET_*} environment values, given to
 * the real launcher in a child JVM (so the environment is real): exit code 2, one line naming the key (or the file)
 * and its origin, no stack trace, nothing started.
 */
class BadConfigurationIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static void assertConfigError(ChildJvm.Result r, String... mentions) {
        assertThat(r.exitCode()).as("exit code; stderr:%n%s", r.err()).isEqualTo(2);
        assertThat(r.err()).contains("configuration error").contains(mentions);
        assertThat(r.err()).as("no stack trace").doesNotContain("\tat ", "Exception in thread");
        assertThat(r.err()).as("nothing started").doesNotContain("started embedded PostgreSQL");
        assertThat(r.out()).isEmpty();
    }

    private static Path file(String name, byte[] content) throws Exception {
        Path dir = Files.createTempDirectory("certfleet-badconfig");
        Path f = dir.resolve(name);
        Files.write(f, content);
        return f;
    }

    @Test
    void aConfigurationFileThatIsNotUtf8IsRefusedNamingTheFile() throws Exception {
        Path f = file("latin1.properties", "acme.contact=mailto:j\u00f6rg@example.com\n"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertConfigError(ChildJvm.of(Map.of()).args("--config", f.toString(), "config").run(TIMEOUT),
                f.toString(), "not valid UTF-8");
    }

    @Test
    void anUnknownKeyInTheFileIsRefusedWithASuggestion() throws Exception {
        Path f = file("typo.properties", "acme.timout=PT5S\n".getBytes());
        assertConfigError(ChildJvm.of(Map.of()).args("--config", f.toString(), "config").run(TIMEOUT),
                "acme.timout", "unknown configuration key", "did you mean 'acme.timeout'");
    }

    @Test
    void aBadDurationInTheFileNamesTheKeyAndTheFile() throws Exception {
        Path f = file("duration.properties", "pipeline.poll-interval=every now and then\n".getBytes());
        assertConfigError(ChildJvm.of(Map.of()).args("--config", f.toString(), "config").run(TIMEOUT),
                "pipeline.poll-interval", "is not a duration", f.toString());
    }

    @Test
    void aDirectoryOrAMissingFileGivenAsConfigurationIsRefused() throws Exception {
        Path dir = Files.createTempDirectory("certfleet-badconfig");
        assertConfigError(ChildJvm.of(Map.of()).args("--config", dir.toString(), "config").run(TIMEOUT),
                dir.toString(), "not a regular file");
        assertConfigError(ChildJvm.of(Map.of("CERTFLEET_CONFIG", dir.resolve("gone.properties").toString()))
                .args("config").run(TIMEOUT), "gone.properties", "does not exist");
    }

    @Test
    void garbageInCertfleetEnvironmentVariablesNamesTheKeyAndTheVariable() throws Exception {
        Map<String, List<String>> cases = Map.of(
                "CERTFLEET_HTTP01_PORT", List.of("99999", "http01.port", "env CERTFLEET_HTTP01_PORT"),
                "CERTFLEET_OPS_PORT", List.of("9402; rm -rf /", "ops.port"),
                "CERTFLEET_ACME_TIMEOUT", List.of("-PT5S", "acme.timeout", "positive duration"),
                "CERTFLEET_PRECHECK_RESOLVERS", List.of("127.0.0.1:53,1.1.1.1:70000", "precheck.resolvers", "70000"),
                "CERTFLEET_ACME_TERMS_AGREED", List.of("maybe", "acme.terms-agreed", "true or false"),
                "CERTFLEET_DB_URL", List.of("mysql://db/certfleet", "db.url", "PostgreSQL JDBC URL"),
                "CERTFLEET_BATCH_MAX_NAMES", List.of("101", "batch.max-names", "between 1 and 100"),
                "CERTFLEET_SCHEDULE_TIME_ZONE", List.of("Mars/Olympus_Mons", "schedule.time-zone"));
        List<String> failures = new ArrayList<>();
        for (var c : cases.entrySet()) {
            ChildJvm.Result r = ChildJvm.of(Map.of(c.getKey(), c.getValue().get(0))).args("config").run(TIMEOUT);
            try {
                assertConfigError(r, c.getValue().subList(1, c.getValue().size()).toArray(String[]::new));
            } catch (AssertionError e) {
                failures.add(c.getKey() + ": " + e.getMessage());
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void anEnvironmentValueThatIsNotValidUtf8IsRefusedNamingTheKey() throws Exception {
        // ProcessBuilder can only pass Strings: let bash export the raw byte 0xff
        List<String> cmd = new ArrayList<>(List.of("/bin/bash", "-c",
                "export CERTFLEET_PRECHECK_TIMEOUT=$'PT1S\\xff'; exec \"$@\"", "bash",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.certfleet.cli.Main", "config"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("CERTFLEET_"));
        Path out = Files.createTempFile("certfleet-env", ".out");
        Path err = Files.createTempFile("certfleet-env", ".err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertConfigError(new ChildJvm.Result(p.exitValue(), Files.readString(out), Files.readString(err)),
                "precheck.timeout", "env CERTFLEET_PRECHECK_TIMEOUT");
    }

    @Test
    void aSecretsKeyThatIsNotBase64IsRefusedWithoutEchoingIt() throws Exception {
        String garbage = "this-is-not-base64-!!-hunter2";
        ChildJvm.Result r = ChildJvm.of(Map.of("CERTFLEET_SECRETS_KEY", garbage))
                .overrides(TestDatabase.get().overrides()).args("status").run(TIMEOUT);
        assertConfigError(r, "secrets.key", "not valid base64");
        assertThat(r.err()).doesNotContain("hunter2");
        ChildJvm.Result shortKey = ChildJvm.of(Map.of("CERTFLEET_SECRETS_KEY", "c2hvcnQ="))
                .overrides(TestDatabase.get().overrides()).args("status").run(TIMEOUT);
        assertConfigError(shortKey, "secrets.key", "32 bytes");
    }

    @Test
    void aTrustedCaFileThatIsADirectoryFailsAtStartNamingTheKey() throws Exception {
        Path dir = Files.createTempDirectory("certfleet-badconfig");
        TestDatabase db = TestDatabase.get();
        ChildJvm.Result r = ChildJvm.of(Map.of()).overrides(db.overrides())
                .overrides(Map.of("acme.trusted-ca-file", dir.toString(), "acme.terms-agreed", "true",
                        "acme.staging.directory", "https://127.0.0.1:9/dir",
                        "acme.production.directory", "https://127.0.0.1:9/dir", "http01.port",
                        Integer.toString(TestDatabase.freePort()), "http01.bind", "127.0.0.1"))
                .args("run", "--once").run(TIMEOUT);
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("acme.trusted-ca-file").doesNotContain("\tat ");
    }
}
