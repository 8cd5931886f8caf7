package io.certfleet.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code bin/certfleet}, the launcher operators and the systemd unit run, with a stand-in {@code java} on the PATH
 * that prints the arguments it was given: which JVM options each command gets.
 */
class LauncherTest {

    @TempDir
    Path home;

    private Path fakeBin;

    /**
     * A checkout in {@code home} with the launcher and an up-to-date "build" (sources older than the jar, so the
     * launcher does not call Maven); {@code jar} is copied to {@code target/certfleet.jar}, or a stand-in written.
     */
    static void checkout(Path home, java.util.Optional<Path> jar) throws IOException {
        Files.createDirectories(home.resolve("bin"));
        Files.copy(Path.of("bin/certfleet").toAbsolutePath(), home.resolve("bin/certfleet"));
        Files.createDirectories(home.resolve("src/main"));
        Files.createDirectories(home.resolve("db"));
        Files.writeString(home.resolve("pom.xml"), "<project/>");
        Instant old = Instant.now().minusSeconds(3600);
        for (String p : List.of("pom.xml", "src/main", "db")) {
            Files.setLastModifiedTime(home.resolve(p), FileTime.from(old));
        }
        Files.createDirectories(home.resolve("target"));
        if (jar.isPresent()) {
            Files.copy(jar.get(), home.resolve("target/certfleet.jar"));
        } else {
            Files.writeString(home.resolve("target/certfleet.jar"), "not a real jar");
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        checkout(home, java.util.Optional.empty());

        fakeBin = Files.createDirectories(home.resolve("fakebin"));
        Path java = fakeBin.resolve("java");
        Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private List<String> jvmArgs(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/certfleet").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PATH", fakeBin + ":" + System.getenv("PATH"));
        pb.environment().put("CERTFLEET_CDS", "off");
        pb.environment().remove("JAVA_OPTS");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        List<String> all = out.lines().toList();
        return all.subList(0, all.indexOf("-jar"));
    }

    @Test
    void theDaemonReturnsIdleHeapToTheSystem() throws Exception {
        assertThat(jvmArgs(Map.of(), "daemon")).contains("-XX:G1PeriodicGCInterval=10000");
        assertThat(jvmArgs(Map.of(), "--set", "http01.port=8080", "daemon"))
                .contains("-XX:G1PeriodicGCInterval=10000");
    }

    @Test
    void shortCommandsDoNotGetTheDaemonsGcSetting() throws Exception {
        assertThat(jvmArgs(Map.of(), "status")).noneMatch(a -> a.contains("G1PeriodicGCInterval"));
        assertThat(jvmArgs(Map.of(), "import", "daemons.txt")).noneMatch(a -> a.contains("G1PeriodicGCInterval"));
    }

    @Test
    void anOperatorsJavaOptsWin() throws Exception {
        List<String> args = jvmArgs(Map.of("JAVA_OPTS", "-Xmx512m -XX:G1PeriodicGCInterval=60000"), "daemon");
        assertThat(args).contains("-Xmx512m", "-XX:G1PeriodicGCInterval=60000")
                .doesNotContain("-XX:G1PeriodicGCInterval=10000");
    }
}
