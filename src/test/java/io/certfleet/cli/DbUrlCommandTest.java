package io.certfleet.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DbUrlCommandTest {
    @Test
    void thePasswordFilePathIsOneShellWord() {
        assertThat(DbUrlCommand.shellWord("/opt/certfleet/data/postgres.pass")).isEqualTo("/opt/certfleet/data/postgres.pass");
        assertThat(DbUrlCommand.shellWord("/srv/cert fleet/postgres.pass")).isEqualTo("'/srv/cert fleet/postgres.pass'");
        assertThat(DbUrlCommand.shellWord("/srv/it's/postgres.pass")).isEqualTo("'/srv/it'\\''s/postgres.pass'");
    }

    @Test
    void anExternalUrlLosesItsParametersForPsql() {
        assertThat(DbUrlCommand.toLibpq("jdbc:postgresql://db:5432/certfleet?password=x")).isEqualTo("postgresql://db:5432/certfleet");
    }
}
