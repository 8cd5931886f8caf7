package io.certfleet.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code bin/certfleet} with the real JVM and the packaged jar: the first daemon run writes the class-data sharing
 * archive when it exits, and the next run maps it, without the archive writer's warnings reaching the operator.
 */
class LauncherIT {

    @TempDir
    Path home;

    private ProcessResult launch(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(home.resolve("bin/certfleet").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("JAVA_OPTS");
        pb.environment().remove("CERTFLEET_CDS");
        pb.environment().remove("CERTFLEET_HOME");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new ProcessResult(p.exitValue(), new String(out, StandardCharsets.UTF_8),
                new String(err, StandardCharsets.UTF_8));
    }

    record ProcessResult(int exit, String out, String err) {
    }

    @Test
    void theFirstDaemonRunWritesTheArchiveQuietlyAndTheNextRunUsesIt() throws Exception {
        Path jar = Path.of("target/certfleet.jar").toAbsolutePath();
        assertThat(jar).as("mvn package builds the jar before the integration tests").exists();
        LauncherTest.checkout(home, java.util.Optional.of(jar));
        Path archive = home.resolve("target/certfleet.jsa");

        ProcessResult first = launch("daemon", "--help");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("Usage:").contains("daemon");
        assertThat(archive).as("the archive written when the first daemon run exits").exists();
        assertThat(first.err()).as("the archive writer's warnings").doesNotContain("[cds]").isBlank();

        ProcessResult second = launch("--help");
        assertThat(second.exit()).as(second.err()).isZero();
        assertThat(second.out()).contains("Usage:");
        assertThat(second.err()).as("a run that maps the archive").isBlank();
    }
}
