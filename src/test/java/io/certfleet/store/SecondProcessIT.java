package io.certfleet.store;

import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A second certfleet process (here: {@code status} in another JVM) connects to the embedded server this JVM
 * already runs, instead of failing on its lock or starting another one.
 */
class SecondProcessIT {
    private final TestDatabase db = TestDatabase.get();

    @Test
    void secondProcessAttachesToTheRunningEmbeddedServer() throws Exception {
        db.clean();
        String pidBefore = Files.readAllLines(db.dir.resolve("postgres/postmaster.pid")).get(0);
        assertThat(db.database.embeddedInfo()).hasValueSatisfying(i -> assertThat(i.ownedByThisProcess()).isTrue());

        List<String> cmd = new ArrayList<>(List.of(
                System.getProperty("java.home") + "/bin/java", "-cp", System.getProperty("java.class.path"),
                "io.certfleet.cli.Main"));
        db.overrides().forEach((k, v) -> cmd.addAll(List.of("--set", k + "=" + v)));
        cmd.addAll(List.of("status", "--format", "json"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();

        assertThat(p.exitValue()).as(err).isZero();
        assertThat(out).contains("\"total\":0");
        assertThat(err).contains("attaching to the embedded PostgreSQL already running");
        assertThat(Files.readAllLines(db.dir.resolve("postgres/postmaster.pid")).get(0)).isEqualTo(pidBefore);
        // the second process left the server running for its owner
        assertThat(ProcessHandle.of(Long.parseLong(pidBefore))).hasValueSatisfying(h -> assertThat(h.isAlive()).isTrue());
    }
}
