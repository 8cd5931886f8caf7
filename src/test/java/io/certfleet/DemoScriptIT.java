package io.certfleet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code bin/demo}, the newcomers' one-command demo, run for real in a temporary directory: Pebbles, challtestsrv,
 * the packaged jar and an embedded PostgreSQL on a free port. It must issue the good names, quarantine the bad ones
 * with their reasons, reject the malformed lines by line number, and leave no process behind.
 */
class DemoScriptIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    @Test
    void demoIssuesGoodNamesAndQuarantinesBadOnes(@TempDir Path tmp) throws Exception {
        Path home = Path.of("").toAbsolutePath();
        assertThat(home.resolve("target/certfleet.jar"))
                .as("bin/demo runs the packaged jar; run 'mvn verify' (package comes before failsafe)")
                .isRegularFile();
        Path demoDir = tmp.resolve("demo");
        Path output = tmp.resolve("demo-output.txt");

        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/demo").toString(), demoDir.toString())
                .directory(home.toFile()).redirectErrorStream(true).redirectOutput(output.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("CERTFLEET_"));
        env.put("CERTFLEET_DEMO_DB_PORT", Integer.toString(freePort()));
        long t0 = System.nanoTime();
        Process demo = pb.start();
        boolean finished = demo.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (!finished) {
            stop(demo);
        }
        long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
        String out = Files.readString(output, StandardCharsets.UTF_8);
        System.out.println("DemoScriptIT: bin/demo took " + seconds + " s; its output:\n" + out);

        assertThat(finished).as("bin/demo finished within " + TIMEOUT).isTrue();
        assertThat(demo.exitValue()).as(out).isZero();

        // the import: malformed lines rejected with their line numbers, the good ones kept
        assertThat(out).containsPattern("rejected line \\d+: a\\.\\.b\\.example: ")
                .containsPattern("rejected line \\d+: 192\\.0\\.2\\.1: ")
                .containsPattern("rejected line \\d+: \\*\\.bad\\.\\*\\.example: ")
                .contains("200 added");
        // the run --once summary: good names issued, bad ones quarantined with their reasons
        Matcher issued = Pattern.compile("(?m)^names issued\\s+([0-9,]+) \\(in ([0-9,]+) certificates?\\)").matcher(out);
        assertThat(issued.find()).as("summary line 'names issued'").isTrue();
        assertThat(Long.parseLong(issued.group(1).replace(",", ""))).isPositive();
        assertThat(Long.parseLong(issued.group(2).replace(",", ""))).isPositive();
        Matcher quarantined = Pattern.compile("(?m)^quarantined\\s+\\{(.*)}").matcher(out);
        assertThat(quarantined.find()).as("summary line 'quarantined'").isTrue();
        assertThat(quarantined.group(1)).contains("CAA_FORBIDS=", "DNS_SERVFAIL=", "CA_CONNECTION=");
        // status and certs ran, and the way to look around was shown
        assertThat(out).containsPattern("(?m)^issued\\s+[1-9]").contains("NOT AFTER")
                .contains("v_domain_status").contains("db-url");

        // every server the demo started is gone (its trap), including the embedded PostgreSQL of its data dir
        List<String> left = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(demoDir.toString())).orElse(false))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList();
        assertThat(left).as("processes left by bin/demo").isEmpty();
    }

    /** On timeout: TERM to the children first (bash runs its trap only after the foreground command ends). */
    private static void stop(Process demo) throws InterruptedException {
        demo.descendants().forEach(ProcessHandle::destroy);
        demo.destroy();
        if (!demo.waitFor(20, TimeUnit.SECONDS)) {
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
