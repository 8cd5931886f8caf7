package io.certfleet.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SettingsLoaderTest {
    @TempDir
    Path dir;

    private Path file(String text) throws IOException {
        Path f = dir.resolve("certfleet.properties");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void defaultsGiveTheEmbeddedDatabaseAndLetsEncrypt() {
        Settings s = SettingsLoader.load(Optional.empty(), Map.of(), Map.of()).settings();
        assertThat(s.database().embedded()).isTrue();
        assertThat(s.database().embeddedDataDir()).isEqualTo(Path.of("./data/postgres"));
        assertThat(s.database().embeddedPort()).isEqualTo(54329);
        assertThat(s.acme().productionDirectory()).isEqualTo("https://acme-v02.api.letsencrypt.org/directory");
        assertThat(s.batch().maxNames()).isEqualTo(100);
        assertThat(s.precheck().timeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.precheck().tries()).isEqualTo(3);
        assertThat(s.secrets().keyFile()).isEqualTo(Path.of("./data/secrets.key"));
    }

    @Test
    void fileThenEnvironmentThenFlagsWin() throws IOException {
        Path f = file("batch.max-names=50\nprecheck.tries=2\ndb.embedded.port=6000\n");
        Settings s = SettingsLoader.load(Optional.of(f),
                Map.of("CERTFLEET_PRECHECK_TRIES", "4", "CERTFLEET_DB_EMBEDDED_PORT", "6001"),
                Map.of("db.embedded.port", "6002")).settings();
        assertThat(s.batch().maxNames()).isEqualTo(50);
        assertThat(s.precheck().tries()).isEqualTo(4);
        assertThat(s.database().embeddedPort()).isEqualTo(6002);
    }

    @Test
    void externalDatabaseIsOneSettingAway() {
        Settings s = SettingsLoader.load(Optional.empty(),
                Map.of("CERTFLEET_DB_URL", "jdbc:postgresql://db.internal:5432/certfleet"), Map.of()).settings();
        assertThat(s.database().embedded()).isFalse();
        assertThat(s.database().url()).contains("jdbc:postgresql://db.internal:5432/certfleet");
    }

    @Test
    void badValueNamesTheKeyTheValueAndWhereItCameFrom() {
        assertThatThrownBy(() -> SettingsLoader.load(Optional.empty(), Map.of("CERTFLEET_BATCH_MAX_NAMES", "101"), Map.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.key()).isEqualTo("batch.max-names");
                    assertThat(e.getMessage()).contains("'101'").contains("CERTFLEET_BATCH_MAX_NAMES")
                            .contains("between 1 and 100");
                });
    }

    @Test
    void everyKindOfBadValueIsCaught() {
        Map<String, String> bad = Map.ofEntries(
                Map.entry("db.url", "postgres://x"),
                Map.entry("db.embedded.port", "70000"),
                Map.entry("precheck.timeout", "soon"),
                Map.entry("acme.key-type", "dsa"),
                Map.entry("acme.terms-agreed", "maybe"),
                Map.entry("precheck.resolvers", "1.1.1.1:99999"),
                Map.entry("schedule.time-zone", "Mars/Olympus"),
                Map.entry("schedule.cron", "daily"),
                Map.entry("acme.staging.directory", "ftp://x/dir"),
                Map.entry("precheck.method", "http-02"),
                Map.entry("precheck.degraded-share", "1.5"),
                Map.entry("precheck.degraded-min-domains", "0"),
                Map.entry("precheck.dnssec-anchor", "/nonexistent/root-anchors.txt"),
                Map.entry("acme.profile", "tls server"));
        bad.forEach((key, value) -> assertThatThrownBy(
                () -> SettingsLoader.load(Optional.empty(), Map.of(), Map.of(key, value)))
                .as(key + "=" + value)
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo(key)));
    }

    @Test
    void freshForLongerThanTheCasCaaRecheckAgeIsRejected() {
        assertThatThrownBy(() -> SettingsLoader.load(Optional.empty(), Map.of(), Map.of("pipeline.fresh-for", "PT8H")))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.key()).isEqualTo("pipeline.fresh-for");
                    assertThat(e.getMessage()).contains("'PT8H'").contains("--set").contains("PT7H")
                            .contains("rechecks CAA at finalize");
                });
        assertThatThrownBy(() -> SettingsLoader.load(Optional.empty(), Map.of(), Map.of("pipeline.fresh-for", "PT7H1S")))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo("pipeline.fresh-for"));
        assertThat(SettingsLoader.load(Optional.empty(), Map.of(), Map.of("pipeline.fresh-for", "PT7H")).settings()
                .pipeline().freshFor()).isEqualTo(Duration.ofHours(7));
        assertThat(SettingsLoader.load(Optional.empty(), Map.of(), Map.of("pipeline.fresh-for", "PT2H")).settings()
                .pipeline().freshFor()).isEqualTo(Duration.ofHours(2));
    }

    @Test
    void contactMustBeAMailtoUri() {
        for (String bad : new String[]{"ops@example.org", "mailto:ops", "mailto:o ps@example.org"}) {
            assertThatThrownBy(() -> SettingsLoader.load(Optional.empty(), Map.of(), Map.of("acme.contact", bad)))
                    .as(bad).isInstanceOfSatisfying(ConfigException.class,
                            e -> assertThat(e.key()).isEqualTo("acme.contact"));
        }
        assertThat(SettingsLoader.load(Optional.empty(), Map.of(), Map.of("acme.contact", "mailto:ops@example.org"))
                .settings().acme().contact()).contains("mailto:ops@example.org");
    }

    @Test
    void unknownKeyInTheFileIsAnErrorWithASuggestion() throws IOException {
        Path f = file("batch.max-name=50\n");
        assertThatThrownBy(() -> SettingsLoader.load(Optional.of(f), Map.of(), Map.of()))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.key()).isEqualTo("batch.max-name");
                    assertThat(e.getMessage()).contains("did you mean 'batch.max-names'");
                });
    }

    @Test
    void missingAndNonUtf8FilesFailWithTheFileName() throws IOException {
        Path missing = dir.resolve("nope.properties");
        assertThatThrownBy(() -> SettingsLoader.load(Optional.of(missing), Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("nope.properties");
        Path latin1 = dir.resolve("latin1.properties");
        Files.write(latin1, new byte[]{'a', 'c', 'm', 'e', '.', 'c', 'o', 'n', 't', 'a', 'c', 't', '=', (byte) 0xE9});
        assertThatThrownBy(() -> SettingsLoader.load(Optional.of(latin1), Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("UTF-8");
    }

    @Test
    void secretsAreMaskedInTheDump() {
        LoadedSettings l = SettingsLoader.load(Optional.empty(), Map.of(
                "CERTFLEET_DB_PASSWORD", "hunter2",
                "CERTFLEET_SECRETS_KEY", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=",
                "CERTFLEET_DB_URL", "jdbc:postgresql://h/db?user=u&password=swordfish"), Map.of());
        String dump = String.join("\n", l.maskedDump());
        assertThat(dump).doesNotContain("hunter2").doesNotContain("c2VjcmV0").doesNotContain("swordfish")
                .contains("db.password = ****").contains("password=****");
    }

    @Test
    void exampleFileInConfigListsEveryKeyWithItsDefault() throws IOException {
        Path example = Path.of("config/certfleet.example.properties");
        assertThat(example).exists();
        assertThat(Files.readString(example))
                .as("config/certfleet.example.properties is out of date; regenerate it with "
                        + "'bin/certfleet config --example > config/certfleet.example.properties'")
                .isEqualTo(SettingsLoader.exampleFile());
    }

    @Test
    void exampleFileLoadsWhenUncommented() throws IOException {
        String uncommented = SettingsLoader.exampleFile().lines()
                .filter(l -> l.startsWith("#") && l.contains("=") && !l.startsWith("# "))
                .map(l -> l.substring(1)).reduce("", (a, b) -> a + b + "\n");
        Settings s = SettingsLoader.load(Optional.of(file(uncommented)), Map.of(), Map.of()).settings();
        assertThat(s.batch().maxNames()).isEqualTo(100);
    }

    @Test
    void theLaunchersOwnVariablesAreNotReportedAsUnknownSettings() {
        // bin/certfleet reads CERTFLEET_HOME and CERTFLEET_CDS, logback.xml CERTFLEET_LOG_LEVEL, bin/demo its own
        LoadedSettings l = SettingsLoader.load(Optional.empty(), Map.of("CERTFLEET_CDS", "off",
                "CERTFLEET_HOME", "/opt/cf",
                "CERTFLEET_LOG_LEVEL", "DEBUG", "CERTFLEET_CONFIG", "x", "CERTFLEET_DEMO_DIR", "/tmp/d"), Map.of());
        assertThat(l.warnings()).isEmpty();
    }

    @Test
    void aMistypedEnvironmentVariableIsReportedWithASuggestion() {
        LoadedSettings l = SettingsLoader.load(Optional.empty(),
                Map.of("CERTFLEET_ACME_TIMOUT", "PT5S", "CERTFLEET_CONFIG", "x", "CERTFLEET_DB_URL", ""), Map.of());
        assertThat(l.warnings()).singleElement().satisfies(w -> assertThat(w)
                .contains("CERTFLEET_ACME_TIMOUT").contains("did you mean 'acme.timeout'"));
    }
}
