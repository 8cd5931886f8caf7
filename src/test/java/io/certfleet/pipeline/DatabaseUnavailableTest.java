package io.certfleet.pipeline;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import static org.assertj.core.api.Assertions.assertThat;

/** Which step failures are the database going away (retried in seconds) rather than a fault of the batch. */
class DatabaseUnavailableTest {

    @Test
    void connectionLossAndServerShutdownAnywhereInTheCauseChainCount() {
        assertThat(Pipeline.databaseUnavailable(new IllegalStateException("work failed",
                new SQLException("An I/O error occurred while sending to the backend.", "08006")))).isTrue();
        assertThat(Pipeline.databaseUnavailable(new RuntimeException(new RuntimeException(
                new SQLException("terminating connection due to administrator command", "57P01"))))).isTrue();
        assertThat(Pipeline.databaseUnavailable(new RuntimeException(
                new SQLTransientConnectionException("certfleet - Connection is not available, request timed out"))))
                .isTrue();
    }

    @Test
    void otherDatabaseErrorsAndPlainBugsDoNot() {
        assertThat(Pipeline.databaseUnavailable(new RuntimeException(
                new SQLException("duplicate key value violates unique constraint", "23505")))).isFalse();
        assertThat(Pipeline.databaseUnavailable(new RuntimeException(new SQLException("no state")))).isFalse();
        assertThat(Pipeline.databaseUnavailable(new IllegalStateException("batch 3 is not open"))).isFalse();
    }
}
