package io.certfleet.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The import's input: what cannot be read is a usage error (exit 2) that names the file and why. */
class ImportCommandTest {
    @TempDir
    Path dir;

    @Test
    void aDirectoryIsAUsageError() {
        assertThatThrownBy(() -> ImportCommand.open(dir.toString())).isInstanceOf(UsageException.class)
                .hasMessage("cannot read '" + dir + "': it is a directory; give a file, or - for standard input");
    }

    @Test
    void aMissingFileIsAUsageError() {
        assertThatThrownBy(() -> ImportCommand.open(dir.resolve("nope.txt").toString()))
                .isInstanceOf(UsageException.class).hasMessageEndingWith("nope.txt': no such file");
    }

    @Test
    void aPathWithANulIsAUsageError() {
        assertThatThrownBy(() -> ImportCommand.open("a\0b.txt")).isInstanceOf(UsageException.class)
                .hasMessageContaining("not a valid path");
    }

    @Test
    void aReadableFileOpens() throws Exception {
        Path f = Files.writeString(dir.resolve("ok.txt"), "example.com\n");
        try (var in = ImportCommand.open(f.toString())) {
            assertThat(new String(in.readAllBytes())).isEqualTo("example.com\n");
        }
    }
}
