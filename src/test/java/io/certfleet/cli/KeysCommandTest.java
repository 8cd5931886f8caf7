package io.certfleet.cli;

import io.certfleet.testsupport.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The parts of {@code certfleet keys} that need no database. */
class KeysCommandTest {
    @TempDir
    Path dir;

    @Test
    void generateWritesA0600KeyFileAndNeverOverwritesOne() throws Exception {
        Path f = dir.resolve("keys/new.key");
        Cli.Result first = Cli.run(Map.of(), null, "keys", "generate", "--out", f.toString());
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        String key = Files.readString(f).strip();
        assertThat(first.out()).contains("fingerprint", "keys rotate --new-key-file").doesNotContain(key);

        Cli.Result again = Cli.run(Map.of(), null, "keys", "generate", "--out", f.toString());
        assertThat(again.exitCode()).isEqualTo(Main.USAGE);
        assertThat(again.err()).contains(f.toString(), "already exists", "never overwritten");
        assertThat(Files.readString(f).strip()).isEqualTo(key);
    }

    @Test
    void rotateRefusesANewKeyFileItCannotUseBeforeTouchingAnyDatabase() throws Exception {
        Path missing = dir.resolve("missing.key");
        Cli.Result r = Cli.run(Map.of("data.dir", dir.resolve("data").toString()), null,
                "keys", "rotate", "--new-key-file", missing.toString());
        assertThat(r.exitCode()).isEqualTo(Main.USAGE);
        assertThat(r.err()).contains("configuration error: --new-key-file:", "missing.key");
        Path shortKey = Files.writeString(dir.resolve("short.key"), "c2hvcnQ=\n");
        Cli.Result s = Cli.run(Map.of("data.dir", dir.resolve("data").toString()), null,
                "keys", "rotate", "--new-key-file", shortKey.toString());
        assertThat(s.exitCode()).isEqualTo(Main.USAGE);
        assertThat(s.err()).contains("--new-key-file:", "32 bytes").doesNotContain("c2hvcnQ=");
        assertThat(dir.resolve("data")).as("no database was started, no key generated").doesNotExist();
    }

    @Test
    void keysWithoutASubcommandShowsItsUsage() {
        Cli.Result r = Cli.run(Map.of(), null, "keys");
        assertThat(r.exitCode()).isEqualTo(Main.USAGE);
        assertThat(r.err()).contains("generate", "rotate", "verify");
    }
}
