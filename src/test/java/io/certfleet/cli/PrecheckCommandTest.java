package io.certfleet.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Usage and configuration errors exit 2 naming the option; invalid names need no DNS at all. */
class PrecheckCommandTest {

    record Result(int exit, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new PrecheckCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void badResolverSyntaxExits2NamingTheOption() {
        Result r = run("--resolver", "127.0.0.1:99999", "example.com");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--resolver", "99999");
        assertThat(run("--resolver", "[::1", "example.com").exit()).isEqualTo(2);
    }

    @Test
    void unknownFormatMethodEnvironmentExit2() {
        assertThat(run("--format", "xml", "example.com").err()).contains("--format");
        assertThat(run("--format", "xml", "example.com").exit()).isEqualTo(2);
        assertThat(run("--method", "dns-02", "example.com").err()).contains("--method");
        assertThat(run("--environment", "test", "example.com").err()).contains("--environment");
        assertThat(run("--timeout", "soon", "example.com").err()).contains("--timeout");
        assertThat(run("--concurrency", "0", "example.com").err()).contains("--concurrency");
        assertThat(run("--no-such-option").exit()).isEqualTo(2);
    }

    @Test
    void unreadableFileExits2(@TempDir Path dir) {
        Result r = run("--file", dir.resolve("missing.txt").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--file", "missing.txt");
    }

    @Test
    void noNamesExits2() {
        Result r = run();
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("NAME");
    }

    @Test
    void invalidNamesFromAFileAreBlockedWithoutDns(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("names.txt");
        Files.writeString(f, "# comment\n\nnot a name\n1.2.3.4\n");
        // A resolver nobody listens on: no query may be needed for invalid names (not even the canary).
        Result r = run("--file", f.toString(), "--resolver", "127.0.0.1:9", "--format", "csv");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out().lines()).first().isEqualTo("name,verdict,reason,level,rcode,ede,records,elapsed_ms,detail");
        assertThat(r.out().lines().skip(1)).hasSize(2)
                .allSatisfy(l -> assertThat(l).contains(",blocked,INVALID_NAME,"));
    }

    @Test
    void precheckSettingsFromTheConfigurationApplyAndFlagsBeatThem() {
        java.util.function.Supplier<io.certfleet.config.Settings.Precheck> configured = () ->
                io.certfleet.config.SettingsLoader.load(java.util.Optional.empty(), java.util.Map.of(), java.util.Map.of(
                        "precheck.resolvers", "127.0.0.1:5353", "precheck.timeout", "PT0.25S", "precheck.tries", "2",
                        "precheck.method", "dns-01", "precheck.ca-identity", "ca.example",
                        "precheck.canary", "net", "precheck.concurrency", "64", "precheck.degraded-share", "0.25",
                        "precheck.degraded-min-domains", "3")).settings().precheck();
        PrecheckCommand fromConfig = new PrecheckCommand(null, configured);
        new CommandLine(fromConfig).parseArgs("example.com");
        io.certfleet.caa.CaaSettings s = fromConfig.settings();
        assertThat(s.resolvers()).containsExactly("127.0.0.1:5353");
        assertThat(s.perTryTimeout()).isEqualTo(java.time.Duration.ofMillis(250));
        assertThat(s.tries()).isEqualTo(2);
        assertThat(s.validationMethod()).isEqualTo("dns-01");
        assertThat(s.caIdentities()).containsExactly("ca.example");
        assertThat(s.canaryNames()).containsExactly("net");
        assertThat(s.concurrency()).isEqualTo(64);
        assertThat(s.degradedShare()).isEqualTo(0.25);
        assertThat(s.degradedMinCount()).isEqualTo(3);
        assertThat(s.sweep()).as("the CLI sweeps only with --sweep, whatever precheck.sweep says").isFalse();

        PrecheckCommand flags = new PrecheckCommand(null, configured);
        new CommandLine(flags).parseArgs("--resolver", "127.0.0.2", "--timeout", "2s", "--tries", "1", "--method",
                "http-01", "--ca-identity", "letsencrypt.org", "--canary", "org", "--concurrency", "8", "example.com");
        io.certfleet.caa.CaaSettings f = flags.settings();
        assertThat(f.resolvers()).containsExactly("127.0.0.2");
        assertThat(f.perTryTimeout()).isEqualTo(java.time.Duration.ofSeconds(2));
        assertThat(f.tries()).isEqualTo(1);
        assertThat(f.validationMethod()).isEqualTo("http-01");
        assertThat(f.caIdentities()).containsExactly("letsencrypt.org");
        assertThat(f.canaryNames()).containsExactly("org");
        assertThat(f.concurrency()).isEqualTo(8);
    }

    @Test
    void aBrokenConfigurationExits2NamingTheKey() {
        StringWriter err = new StringWriter();
        int exit;
        try {
            exit = Main.commandLine().setErr(new PrintWriter(err)).execute("--set", "precheck.tries=0", "precheck",
                    "not a name");
        } finally {
            err.flush();
        }
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("precheck.tries");
    }

    @Test
    void aProgressLineIsDrawnOnStderrOnlyWhenTheLauncherSaysItIsATerminal(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("names.txt");
        Files.writeString(f, "not a name\n1.2.3.4\n");
        String[] args = {"--file", f.toString(), "--resolver", "127.0.0.1:9", "--format", "json"};
        String before = System.getProperty(Terminal.PROPERTY);
        try {
            System.setProperty(Terminal.PROPERTY, "true");
            Result tty = run(args);
            assertThat(tty.err()).contains("2/2 names, 2 blocked, 0 at-risk");
            assertThat(tty.out()).doesNotContain("names/s");
            System.setProperty(Terminal.PROPERTY, "false");
            assertThat(run(args).err()).doesNotContain("names/s");
        } finally {
            if (before == null) {
                System.clearProperty(Terminal.PROPERTY);
            } else {
                System.setProperty(Terminal.PROPERTY, before);
            }
        }
    }

    @Test
    void namesComeFromStandardInputWithFileDash() {
        java.io.InputStream before = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("# from a pipe\nnot a name\n\n1.2.3.4\n"
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            Result r = run("--file", "-", "--resolver", "127.0.0.1:9", "--format", "json");
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.out().lines()).hasSize(2).allSatisfy(l -> assertThat(l).contains("\"reason\":\"INVALID_NAME\""));
            assertThat(r.out()).contains("\"name\":\"not a name\"").contains("1.2.3.4");
        } finally {
            System.setIn(before);
        }
    }
}
