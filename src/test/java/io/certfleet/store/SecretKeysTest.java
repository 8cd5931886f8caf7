package io.certfleet.store;

import io.certfleet.config.ConfigException;
import io.certfleet.config.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SecretKeysTest {
    @TempDir
    Path dir;

    @Test
    void aGeneratedKeyFileIsMode0600AndHoldsTheKeyItReturns() throws Exception {
        Path f = dir.resolve("sub/new.key");
        SecretBox generated = SecretKeys.generate(f);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        assertThat(SecretKeys.permissionProblem(f)).isEmpty();
        byte[] decoded = Base64.getDecoder().decode(Files.readString(f, StandardCharsets.US_ASCII).strip());
        assertThat(decoded).hasSize(32);
        assertThat(SecretKeys.readKeyFile(f, "--new-key-file").fingerprint()).isEqualTo(generated.fingerprint());
        assertThat(generated.fingerprint()).isEqualTo(new SecretBox(decoded).fingerprint());
    }

    @Test
    void anExistingKeyFileIsNeverOverwritten() throws Exception {
        Path f = dir.resolve("only-copy.key");
        SecretBox first = SecretKeys.generate(f);
        String before = Files.readString(f);
        assertThatThrownBy(() -> SecretKeys.generate(f)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(f)).isEqualTo(before);
        assertThat(SecretKeys.readKeyFile(f, "x").fingerprint()).isEqualTo(first.fingerprint());
    }

    @Test
    void loadGeneratesAMissingKeyFileOnceAndThenReadsIt() throws Exception {
        Path f = dir.resolve("data/secrets.key");
        var settings = new Settings.Secrets(Optional.empty(), f);
        SecretBox first = SecretKeys.load(settings);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        assertThat(SecretKeys.load(settings).fingerprint()).isEqualTo(first.fingerprint());
        assertThat(SecretKeys.source(settings)).isEqualTo("secrets.key-file");
        assertThat(SecretKeys.source(new Settings.Secrets(Optional.of("x"), f))).isEqualTo("secrets.key");
    }

    @Test
    void aBadKeyFileNamesTheSettingAndNeverEchoesTheContent() throws Exception {
        Path notBase64 = Files.writeString(dir.resolve("a.key"), "this is not base64 !!\n");
        assertThatThrownBy(() -> SecretKeys.readKeyFile(notBase64, "--new-key-file"))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("--new-key-file: ")
                .hasMessageContaining("not valid base64").hasMessageNotContaining("this is not");
        String sixteen = Base64.getEncoder().encodeToString(new byte[16]);
        Path shortKey = Files.writeString(dir.resolve("b.key"), sixteen);
        assertThatThrownBy(() -> SecretKeys.readKeyFile(shortKey, "secrets.key-file"))
                .hasMessageContaining("32 bytes").hasMessageContaining("got 16").hasMessageNotContaining(sixteen);
        assertThatThrownBy(() -> SecretKeys.readKeyFile(dir.resolve("missing.key"), "--new-key-file"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("missing.key");
    }

    @Test
    void aKeyFileOthersCanReadIsReported() throws Exception {
        Path f = dir.resolve("loose.key");
        SecretKeys.generate(f);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(SecretKeys.permissionProblem(f)).hasValueSatisfying(p -> assertThat(p).contains("rw-r--r--"));
    }
}
