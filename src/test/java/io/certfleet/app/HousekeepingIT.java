package io.certfleet.app;

import io.certfleet.store.HistoryStore;
import io.certfleet.store.HousekeepingStore;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class HousekeepingIT {
    private final TestDatabase db = TestDatabase.get();

    @Test
    void eachFiringSamplesTheFleetAndDropsHistoryPastItsRetention() throws SQLException {
        db.clean();
        Instant now = Instant.parse("2026-06-01T12:00:00Z");
        exec("INSERT INTO domain (name, input, state) VALUES ('a.example', 'a', 'issued'), ('b.example', 'b', 'issued'),"
                + " ('c.example', 'c', 'pending')");
        exec("INSERT INTO fleet_history (taken_at, state, reason, count) VALUES"
                + " ('" + now.minus(Housekeeping.HISTORY_RETENTION).minusSeconds(1) + "', 'pending', NULL, 9),"
                + " ('" + now.minus(Housekeeping.HISTORY_RETENTION).plusSeconds(1) + "', 'pending', NULL, 8)");
        exec("INSERT INTO issuance_run (kind, node, started_at) VALUES ('nightly', 'n:1', '"
                + now.minus(Duration.ofDays(91)) + "'), ('nightly', 'n:1', '" + now.minus(Duration.ofDays(1)) + "')");

        new Housekeeping(new HousekeepingStore(db.store), new HistoryStore(db.store), Clock.fixed(now, ZoneOffset.UTC))
                .run();

        assertThat(query("SELECT string_agg(state || '=' || count, ',' ORDER BY state) FROM fleet_history"
                + " WHERE taken_at = '" + now + "'")).isEqualTo("issued=2,pending=1");
        assertThat(query("SELECT string_agg(count::text, ',' ORDER BY taken_at, state) FROM fleet_history")).isEqualTo("8,2,1");
        assertThat(query("SELECT count(*) FROM issuance_run")).isEqualTo("1");
    }

    private String query(String sql) throws SQLException {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private void exec(String sql) throws SQLException {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
