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
}
