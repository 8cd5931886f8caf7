package io.certfleet.store;

import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin views of docs/admin-queries.md on rows shaped like the pipeline writes them, on real PostgreSQL. */
class AdminViewsIT {
    private final TestDatabase db = TestDatabase.get();

    @BeforeEach
    void clean() {
        db.clean();
        exec("INSERT INTO acme_account (environment, directory_url, account_url, key_ciphertext) VALUES"
                + " ('staging', 'https://s.test/dir', 'https://s.test/acct/1', '\\x00'),"
                + " ('production', 'https://p.test/dir', 'https://p.test/acct/7', '\\x00')");
        for (String n : List.of("a", "b", "c", "d")) {
            exec("INSERT INTO domain (name, input, registered_domain, customer) VALUES ('" + n + ".shop.example', '"
                    + n + ".shop.example', 'shop.example', 'acme')");
        }
    }

    @Test
    void batchTreeShowsProbesReordersAndThePromotionUnderTheirRoot() {
        // 1 staging, split into probes 2 and 3; 4 re-orders the clean names; 5 promotes 4 to production; 6 unrelated
        exec("INSERT INTO batch (environment, state, error_type, error_detail) VALUES ('staging', 'split', 'UNATTRIBUTED', 'x')");
        exec("INSERT INTO batch (environment, state, parent_id, probe_ids, order_url) VALUES"
                + " ('staging', 'failed', 1, '{1,2}', 'https://s.test/order/2'),"
                + " ('staging', 'superseded', 1, '{3,4}', 'https://s.test/order/3'),"
                + " ('staging', 'cleared', 1, NULL, 'https://s.test/order/4')");
        exec("INSERT INTO batch (environment, state, rehearsal_id, order_url) VALUES ('production', 'issued', 4, 'https://p.test/order/5')");
        exec("INSERT INTO batch (environment, state) VALUES ('staging', 'planned')");
        exec("INSERT INTO batch_member (batch_id, domain_id, active) VALUES (1, 1, false), (1, 2, false), (1, 3, false),"
                + " (1, 4, false), (2, 1, false), (2, 2, false), (3, 3, false), (3, 4, false), (4, 2, false),"
                + " (4, 3, false), (4, 4, false), (5, 2, false), (5, 3, false), (5, 4, false)");

        List<Map<String, Object>> tree = rows("SELECT * FROM v_batch_tree WHERE root_id = 1 ORDER BY path");
        assertThat(tree).extracting(r -> r.get("batch_id")).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(tree).extracting(r -> r.get("edge")).containsExactly("root", "probe", "probe", "reorder", "promotion");
        assertThat(tree).extracting(r -> r.get("depth")).containsExactly(0, 1, 1, 1, 2);
        assertThat(tree).extracting(r -> r.get("parent_id")).containsExactly(null, 1L, 1L, 1L, 4L);
        assertThat(tree).extracting(r -> r.get("names")).containsExactly(4L, 2L, 2L, 3L, 3L);
        assertThat(tree).extracting(r -> r.get("probed")).containsExactly(0, 2, 2, 0, 0);
        Map<String, Object> promotion = tree.get(4);
        assertThat(promotion).containsEntry("environment", "production").containsEntry("state", "issued")
                .containsEntry("order_url", "https://p.test/order/5").containsEntry("path", "{1,4,5}");
        assertThat(tree.get(0)).containsEntry("error", "UNATTRIBUTED").containsEntry("error_detail", "x");
        assertThat(rows("SELECT root_id, depth FROM v_batch_tree WHERE batch_id = 6"))
                .containsExactly(Map.of("root_id", 6L, "depth", 0));
        assertThat(count("SELECT count(*) FROM v_batch_tree")).as("every batch once").isEqualTo(6);
    }

    // intervals are in hours: the session time zone is not UTC, and '1 day' across a DST change is 23 or 25 hours
    @Test
    void validationAgeIsPerNameEnvironmentAndAccount() {
        exec("INSERT INTO validation (domain_id, environment, account_id, validated_at, authz_url, authz_expires) VALUES"
                + " (1, 'staging', 1, now() - interval '2 hours', 'https://s.test/authz/1', now() + interval '144 hours'),"
                + " (1, 'production', 2, now() - interval '960 hours', 'https://p.test/authz/1', now() - interval '10 days')");
        List<Map<String, Object>> r = rows("SELECT name, environment, account_url, reusable,"
                + " round(extract(epoch FROM age) / 3600) AS age_h, authz_url"
                + " FROM v_validation_age WHERE name = 'a.shop.example' ORDER BY environment");
        assertThat(r).containsExactly(
                row("name", "a.shop.example", "environment", "production", "account_url", "https://p.test/acct/7",
                        "reusable", false, "age_h", new java.math.BigDecimal("960"), "authz_url", "https://p.test/authz/1"),
                row("name", "a.shop.example", "environment", "staging", "account_url", "https://s.test/acct/1",
                        "reusable", true, "age_h", new java.math.BigDecimal("2"), "authz_url", "https://s.test/authz/1"));
    }

    @Test
    void certificatesExpiringListsUnreplacedProductionCertificatesWithDaysLeft() {
        exec("INSERT INTO batch (environment, state, customer) VALUES ('production', 'issued', 'acme')");
        certificate("production", "'{a.shop.example,b.shop.example}'", "now() + interval '241 hours'",
                "now() + interval '72 hours'", "1");
        certificate("production", "'{c.shop.example}'", "now() - interval '47 hours'", "NULL", "NULL");
        certificate("production", "'{d.shop.example}'", "now() + interval '1441 hours'", "NULL", "NULL");
        certificate("staging", "'{a.shop.example}'", "now() + interval '120 hours'", "NULL", "NULL");
        exec("UPDATE certificate SET replaced_by_id = 3 WHERE id = 2"); // the expired one was replaced after all

        List<Map<String, Object>> r = rows("SELECT certificate_id, customer, names, first_name, days_left,"
                + " renew_at IS NOT NULL AS renews FROM v_certificates_expiring ORDER BY not_after");
        assertThat(r).containsExactly(
                row("certificate_id", 1L, "customer", "acme", "names", 2, "first_name", "a.shop.example", "days_left", 10,
                        "renews", true),
                row("certificate_id", 3L, "customer", null, "names", 1, "first_name", "d.shop.example", "days_left", 60,
                        "renews", false));
        exec("UPDATE certificate SET replaced_by_id = NULL WHERE id = 2");
        assertThat(rows("SELECT days_left FROM v_certificates_expiring WHERE certificate_id = 2"))
                .as("expired without a replacement: negative").containsExactly(row("days_left", -2));
    }

    @Test
    void budgetShowsUseAgainstTheRecordedLimitPerAccountAndRegisteredDomain() {
        exec("INSERT INTO ca_event (occurred_at, environment, account_id, request, outcome) VALUES"
                + " (now() - interval '2 hours', 'production', 2, 'NEW_ORDER', 'ok'),"
                + " (now() - interval '1 hour', 'production', 2, 'NEW_ORDER', 'ok'),"
                + " (now() - interval '1 hour', 'production', 2, 'NEW_ORDER', 'rate-limited'),"
                + " (now() - interval '4 hours', 'production', 2, 'NEW_ORDER', 'ok'),"
                + " (now() - interval '1 hour', 'production', 2, 'FINALIZE', 'ok')");
        // an ARI renewal inside its window does not count against the new-order limit
        exec("INSERT INTO ca_event (occurred_at, environment, account_id, request, outcome, limits_exempt) VALUES"
                + " (now() - interval '1 hour', 'production', 2, 'NEW_ORDER', 'ok', true)");
        // failed authorizations: two for a.shop.example in the hour, one older than the hour
        exec("INSERT INTO ca_event (occurred_at, environment, account_id, request, outcome, identifiers) VALUES"
                + " (now() - interval '50 minutes', 'production', 2, 'AUTHORIZATION', 'invalid', '{a.shop.example}'),"
                + " (now() - interval '10 minutes', 'production', 2, 'AUTHORIZATION', 'invalid', '{a.shop.example}'),"
                + " (now() - interval '2 hours', 'production', 2, 'AUTHORIZATION', 'invalid', '{b.shop.example}')");
        exec("INSERT INTO budget_limit (limit_name, environment, limit_value, recorded_by) VALUES"
                + " ('NEW_ORDERS', 'production', 300, 'node-a:1'), ('NEW_ORDERS', 'staging', 1500, 'node-a:1'),"
                + " ('CERTIFICATES_PER_DOMAIN', 'production', 50, 'node-a:1'), ('EXACT_SET', 'production', 5, 'node-a:1'),"
                + " ('FAILED_AUTHORIZATIONS', 'production', 5, 'node-a:1')");
        exec("INSERT INTO domain (name, input, registered_domain) VALUES ('x.other.example', 'x', 'other.example')");
        long c1 = certificate("production", "'{a.shop.example,b.shop.example}'", "now() + interval '1920 hours'", "NULL", "NULL");
        exec("UPDATE certificate SET created_at = now() - interval '144 hours' WHERE id = " + c1);
        long c2 = certificate("production", "'{c.shop.example,x.other.example}'", "now() + interval '1920 hours'", "NULL", "NULL");
        long old = certificate("production", "'{d.shop.example}'", "now() + interval '1920 hours'", "NULL", "NULL");
        exec("UPDATE certificate SET created_at = now() - interval '192 hours' WHERE id = " + old);
        exec("INSERT INTO certificate_name VALUES (" + c1 + ", 1), (" + c1 + ", 2), (" + c2 + ", 3), (" + c2 + ", 5),"
                + " (" + old + ", 4)");

        List<Map<String, Object>> r = rows("SELECT limit_name, environment, scope_type, scope, used, limit_value,"
                + " remaining, window_length::text AS window_length,"
                + " round(extract(epoch FROM window_end - now()) / 3600) AS frees_in_h FROM v_budget"
                + " ORDER BY limit_name, environment, scope");
        assertThat(r).containsExactly(
                budget("CERTIFICATES_PER_DOMAIN", "production", "registered_domain", "other.example", 1, 50, "168:00:00", 168),
                budget("CERTIFICATES_PER_DOMAIN", "production", "registered_domain", "shop.example", 2, 50, "168:00:00", 24),
                budget("EXACT_SET", "production", "exact_set", "a.shop.example,b.shop.example", 1, 5, "168:00:00", 24),
                budget("EXACT_SET", "production", "exact_set", "c.shop.example,x.other.example", 1, 5, "168:00:00", 168),
                budget("FAILED_AUTHORIZATIONS", "production", "name", "a.shop.example", 2, 5, "01:00:00", 0),
                budget("NEW_ORDERS", "production", "account", "https://p.test/acct/7", 2, 300, "03:00:00", 1),
                budget("NEW_ORDERS", "staging", "account", "https://s.test/acct/1", 0, 1500, "03:00:00", null));

        exec("DELETE FROM budget_limit");
        assertThat(rows("SELECT DISTINCT limit_value, remaining FROM v_budget"))
                .as("no limit recorded: unknown, not invented").containsExactly(row("limit_value", null, "remaining", null));
    }

    @Test
    void pausedNamesCarryTheUnpauseUrlAndAccountFromTheIsolatorsDetail() {
        // the detail exactly as pipeline/Isolator.rateLimited writes it
        exec("UPDATE domain SET state = 'quarantined', reason_code = 'CA_PAUSED', next_attempt_at = now() + interval '1 hour',"
                + " reason_detail = 'Let''s Encrypt paused issuance for this name on account https://p.test/acct/7;"
                + " an operator must unpause it at https://portal.letsencrypt.test/sfe/v1/unpause?jwt=eyJh.e30.c2ln,"
                + " then release it (certfleet release NAME)' WHERE name = 'b.shop.example'");
        exec("UPDATE domain SET state = 'quarantined', reason_code = 'CA_PAUSED',"
                + " reason_detail = 'Let''s Encrypt paused issuance for this name on account https://p.test/acct/7;"
                + " an operator must unpause it at the URL in the CA''s message' WHERE name = 'c.shop.example'");
        exec("UPDATE domain SET state = 'quarantined', reason_code = 'CA_DNS', reason_detail = 'unpause it at https://no.test/'"
                + " WHERE name = 'd.shop.example'");
        List<Map<String, Object>> r = rows("SELECT name, customer, state, environment, account_url, unpause_url,"
                + " next_attempt IS NOT NULL AS waits FROM v_paused_names ORDER BY name");
        assertThat(r).containsExactly(
                row("name", "b.shop.example", "customer", "acme", "state", "quarantined", "environment", "production",
                        "account_url", "https://p.test/acct/7",
                        "unpause_url", "https://portal.letsencrypt.test/sfe/v1/unpause?jwt=eyJh.e30.c2ln", "waits", true),
                row("name", "c.shop.example", "customer", "acme", "state", "quarantined", "environment", "production",
                        "account_url", "https://p.test/acct/7", "unpause_url", null, "waits", false));
    }

    /** Every SQL statement in docs/admin-queries.md runs against the current schema (the doc cannot rot). */
    @Test
    void everyQueryInTheAdminDocRuns() throws java.io.IOException {
        String doc = java.nio.file.Files.readString(java.nio.file.Path.of("docs", "admin-queries.md"));
        java.util.regex.Matcher block = java.util.regex.Pattern.compile("```sql\\n(.*?)```", java.util.regex.Pattern.DOTALL)
                .matcher(doc);
        int statements = 0;
        while (block.find()) {
            for (String sql : block.group(1).split(";\\s*\\n")) {
                String stripped = sql.replaceAll("(?m)^--.*$", "").strip();
                if (!stripped.isEmpty()) {
                    rows(stripped);
                    statements++;
                }
            }
        }
        assertThat(statements).isGreaterThanOrEqualTo(20);
    }

    private static Map<String, Object> budget(String limit, String env, String scopeType, String scope, long used,
                                              long limitValue, String window, Integer freesInHours) {
        return row("limit_name", limit, "environment", env, "scope_type", scopeType, "scope", scope, "used", used,
                "limit_value", limitValue, "remaining", limitValue - used, "window_length", window,
                "frees_in_h", freesInHours == null ? null : new java.math.BigDecimal(freesInHours));
    }

    private long certificate(String env, String names, String notAfter, String renewAt, String batchId) {
        return count("INSERT INTO certificate (environment, batch_id, names, serial, not_before, not_after, chain_pem,"
                + " key_algorithm, key_ciphertext, renew_at) VALUES ('" + env + "', " + batchId + ", " + names
                + ", md5(random()::text), now() - interval '1920 hours', " + notAfter + ", 'pem', 'EC', '\\x00', " + renewAt
                + ") RETURNING id");
    }

    static Map<String, Object> row(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private List<Map<String, Object>> rows(String sql) {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            List<Map<String, Object>> out = new ArrayList<>();
            while (rs.next()) {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    Object v = rs.getObject(i);
                    m.put(md.getColumnLabel(i), v instanceof java.sql.Array a ? a.toString() : v);
                }
                out.add(m);
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    private long count(String sql) {
        return ((Number) rows(sql).get(0).values().iterator().next()).longValue();
    }

    private void exec(String sql) {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }
}
