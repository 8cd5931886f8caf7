package io.certfleet.store;

import io.certfleet.model.DomainName;
import io.certfleet.model.DomainState;
import io.certfleet.model.NewDomain;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SchemaIT {
    private final TestDatabase db = TestDatabase.get();

    @BeforeEach
    void clean() {
        db.clean();
    }

    @Test
    void sessionTimeZoneIsNotUtcSoTimestampBugsShow() throws SQLException {
        assertThat(query("SHOW TimeZone")).isNotEqualToIgnoringCase("UTC").isNotEqualToIgnoringCase("Etc/UTC");
    }

    @Test
    void embeddedServerSyncsCommitsToDiskDespiteZonkysDefault() throws SQLException {
        assertThat(query("SHOW fsync")).isEqualTo("on");
        assertThat(query("SHOW synchronous_commit")).isEqualTo("on");
    }

    @Test
    void migrationsAreAppliedAndHibernateValidatesTheMapping() throws SQLException {
        assertThat(query("SELECT max(version) FROM flyway_schema_history WHERE success")).isEqualTo("6");
        assertThat(Integer.parseInt(query("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'qrtz_%'")))
                .isEqualTo(11);
        // Store.open ran with hbm2ddl=validate in TestDatabase; a second open proves it again on the current schema
        Store.open(db.database.dataSource()).close();
    }

    @Test
    void domainStateCommentNoLongerSaysADegradedResolverHoldsAName() throws SQLException {
        // V1's comment listed "degraded resolver" under held; such names stay pending (V6 corrects the comment)
        String comment = query("SELECT col_description('domain'::regclass, attnum) FROM pg_attribute "
                + "WHERE attrelid = 'domain'::regclass AND attname = 'state'");
        assertThat(comment).doesNotContain("DNS-01, degraded resolver")
                .contains("pending: waits for pre-check/ordering (also while a degraded resolver leaves it unchecked")
                .contains("held: waits for something not its fault");
    }

    @Test
    void anEntityThatDisagreesWithTheSchemaFailsValidation() throws SQLException {
        exec("ALTER TABLE http01_token RENAME COLUMN key_authorization TO key_auth");
        try {
            assertThatThrownBy(() -> Store.open(db.database.dataSource()))
                    .hasStackTraceContaining("key_authorization");
        } finally {
            exec("ALTER TABLE http01_token RENAME COLUMN key_auth TO key_authorization");
        }
    }

    @Test
    void databaseEnforcesUniqueNamesValidStatesAndForeignKeys() {
        exec("INSERT INTO domain (name, input) VALUES ('a.example.com', 'a.example.com')");
        assertThatThrownBy(() -> exec("INSERT INTO domain (name, input) VALUES ('a.example.com', 'A.example.com')"))
                .hasMessageContaining("domain_identifier_uq");
        exec("INSERT INTO domain (name, wildcard, input) VALUES ('a.example.com', true, '*.a.example.com')");
        assertThatThrownBy(() -> exec("UPDATE domain SET state = 'bogus'")).hasMessageContaining("domain_state_ck");
        assertThatThrownBy(() -> exec("INSERT INTO domain (name, input) VALUES ('Upper.example.com', 'x')"))
                .hasMessageContaining("domain_name_ck");
        assertThatThrownBy(() -> exec("INSERT INTO batch_member (batch_id, domain_id) VALUES (999, 1)"))
                .hasMessageContaining("foreign key");
    }

    @Test
    void aNameIsInAtMostOneOpenBatch() {
        exec("INSERT INTO domain (name, input) VALUES ('a.example.com', 'a.example.com')");
        exec("INSERT INTO batch (environment) VALUES ('staging'), ('staging')");
        exec("INSERT INTO batch_member (batch_id, domain_id) VALUES (1, 1)");
        assertThatThrownBy(() -> exec("INSERT INTO batch_member (batch_id, domain_id) VALUES (2, 1)"))
                .hasMessageContaining("batch_member_one_open_batch_uq");
        exec("UPDATE batch_member SET active = false");
        exec("INSERT INTO batch_member (batch_id, domain_id) VALUES (2, 1)");
    }

    @Test
    void adminViewsShowEveryDomainAndEveryState() throws Exception {
        var store = new DomainStore(db.store);
        store.insertNew(List.of(
                new NewDomain(DomainName.parse("a.example.com"), "a.example.com", Optional.of("acme")),
                new NewDomain(DomainName.parse("*.b.example.com"), "*.b.example.com", Optional.empty())));
        exec("UPDATE domain SET state = 'quarantined', reason_code = 'CAA_FORBIDS', reason_detail = 'CAA forbids'"
                + " WHERE name = 'a.example.com'");
        exec("INSERT INTO precheck_result (domain_id, environment, verdict, reason) VALUES (1, 'staging', 'blocked', 'CAA_FORBIDS')");
        assertThat(query("SELECT name || '|' || state || '|' || reason || '|' || precheck_verdict FROM v_domain_status WHERE domain_id = 1"))
                .isEqualTo("a.example.com|quarantined|CAA_FORBIDS|blocked");
        assertThat(query("SELECT name FROM v_domain_status WHERE domain_id = 2")).isEqualTo("*.b.example.com");
        assertThat(store.stateCounts()).containsEntry(DomainState.PENDING, 1L).containsEntry(DomainState.QUARANTINED, 1L)
                .containsEntry(DomainState.ISSUED, 0L).hasSize(DomainState.values().length);
        assertThat(store.recentProblems(10)).singleElement().satisfies(p -> {
            assertThat(p.name()).isEqualTo("a.example.com");
            assertThat(p.reason()).contains("CAA_FORBIDS");
        });
    }

    private String query(String sql) throws SQLException {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private void exec(String sql) {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Regression: names the CA blamed were always re-checked after the first backoff, however often they failed. */
    @Test
    void quarantineBackoffDoublesWithTheFailuresANameAlreadyHad() throws Exception {
        var store = new DomainStore(db.store);
        store.insertNew(List.of(new NewDomain(DomainName.parse("a.example.com"), "a.example.com", Optional.empty()),
                new NewDomain(DomainName.parse("b.example.com"), "b.example.com", Optional.empty())));
        exec("UPDATE domain SET attempts = 3 WHERE name = 'b.example.com'");
        var batches = new BatchStore(db.store);
        long id = batches.create(new io.certfleet.model.BatchTransition.NewBatch(io.certfleet.model.CaEnvironment.STAGING,
                Optional.empty(), Optional.empty(), Optional.empty(), List.of(1L, 2L), List.of(), Optional.empty(), 0));
        var why = new io.certfleet.model.BatchTransition.Reason("CA_DNS", "test");
        batches.apply(new io.certfleet.model.BatchTransition(id, io.certfleet.model.BatchState.FAILED, Optional.empty(),
                Optional.empty(), java.util.Map.of(1L, why, 2L, why), new io.certfleet.model.BatchTransition.Backoff(
                java.time.Duration.ofHours(1), java.time.Duration.ofHours(6)), java.util.Map.of(), List.of(),
                Optional.empty(), Optional.empty()));
        // first failure: 1 h; a name that already failed 3 times: 8 h, capped at 6 h
        assertThat(query("SELECT round(extract(epoch FROM next_attempt_at - updated_at) / 3600) FROM domain WHERE id = 1"))
                .isEqualTo("1");
        assertThat(query("SELECT round(extract(epoch FROM next_attempt_at - updated_at) / 3600) FROM domain WHERE id = 2"))
                .isEqualTo("6");
    }
}
