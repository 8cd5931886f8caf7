package io.certfleet.cli;

import io.certfleet.store.HistoryStore;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code certfleet report} through the real CLI against a populated embedded PostgreSQL. */
class ReportCommandIT {
    private static final String HOSTILE = "<script>alert(1)</script>.example";
    private final TestDatabase db = TestDatabase.get();

    @TempDir
    Path dir;

    @BeforeEach
    void clean() {
        db.clean();
    }

    /**
     * A run an hour ago: 14 names due, 10 fresh (straight to production), 4 pre-checked and quarantined (one of them
     * a hostile name with a hostile detail); one production order issued the 10 in one certificate.
     */
    private void populate() {
        exec("INSERT INTO acme_account (environment, directory_url, account_url, key_ciphertext) VALUES"
                + " ('production', 'https://p.test/dir', 'https://p.test/acct/7', '\\x00')");
        exec("INSERT INTO domain (name, input, registered_domain, state) SELECT 'n' || i || '.shop.example', 'x',"
                + " 'shop.example', 'pending' FROM generate_series(1, 10) i");
        exec("INSERT INTO domain (name, input, state, reason_code, reason_detail) SELECT 'q' || i || '.bad.example',"
                + " 'x', 'pending', NULL, NULL FROM generate_series(1, 3) i");
        exec("INSERT INTO domain (name, input, state) VALUES ('" + HOSTILE + "', 'x', 'pending')");
        // history before the run: everything pending
        new HistoryStore(db.store).sample(Instant.now().minus(Duration.ofHours(26)));
        new HistoryStore(db.store).sample(Instant.now().minus(Duration.ofHours(2)));

        exec("INSERT INTO issuance_run (kind, node, started_at, ended_at) VALUES"
                + " ('nightly', 'node-b:7', now() - interval '25 hours', now() - interval '25 hours'),"
                + " ('once', 'node-a:42', now() - interval '60 minutes', now() - interval '50 minutes')");
        exec("INSERT INTO precheck_run (environment, started_at, finished_at, names_total) VALUES"
                + " ('production', now() - interval '59 minutes', now() - interval '58 minutes', 14)");
        exec("INSERT INTO precheck_result (run_id, domain_id, environment, verdict, reason)"
                + " SELECT 1, id, 'production', 'allowed', 'SKIPPED_FRESH' FROM domain WHERE name LIKE 'n%'");
        exec("INSERT INTO precheck_result (run_id, domain_id, environment, verdict, reason)"
                + " SELECT 1, id, 'production', 'blocked', 'CAA_FORBIDS' FROM domain WHERE name NOT LIKE 'n%'");
        exec("UPDATE domain SET state = 'quarantined', reason_code = 'CAA_FORBIDS',"
                + " reason_detail = 'CAA for ' || name || ' forbids Let''s Encrypt' WHERE name LIKE 'q%'");
        exec("UPDATE domain SET state = 'quarantined', reason_code = 'DNS_SERVFAIL',"
                + " reason_detail = '\"><img src=x onerror=alert(2)>' WHERE name = '" + HOSTILE + "'");
        exec("INSERT INTO batch (environment, state, order_url, account_id, created_at) VALUES"
                + " ('production', 'issued', 'https://p.test/order/1', 1, now() - interval '57 minutes')");
        exec("INSERT INTO batch_member (batch_id, domain_id, active) SELECT 1, id, false FROM domain WHERE name LIKE 'n%'");
        exec("INSERT INTO ca_event (occurred_at, environment, account_id, batch_id, request, outcome) VALUES"
                + " (now() - interval '57 minutes', 'production', 1, 1, 'NEW_ORDER', 'ok'),"
                + " (now() - interval '26 hours', 'production', 1, NULL, 'NEW_ORDER', 'ok')");
        exec("INSERT INTO certificate (environment, batch_id, names, serial, not_before, not_after, chain_pem,"
                + " key_algorithm, key_ciphertext, created_at) VALUES"
                + " ('production', 1, ARRAY(SELECT name FROM domain WHERE name LIKE 'n%'), 'ab01',"
                + "  now() - interval '1 hour', now() + interval '2159 hours', 'pem', 'EC', '\\x00', now() - interval '55 minutes'),"
                + " ('production', NULL, '{old.shop.example}', 'ab00', now() - interval '1700 hours',"
                + "  now() + interval '400 hours', 'pem', 'EC', '\\x00', now() - interval '1700 hours')");
        exec("INSERT INTO certificate_name SELECT 1, id FROM domain WHERE name LIKE 'n%'");
        exec("UPDATE domain SET state = 'issued' WHERE name LIKE 'n%'");
    }

    @Test
    void writesTheLastRunTheFleetOverTimeAndTheExpiryHistogramWithCustomerInputEscaped() throws IOException {
        populate();
        Path out = dir.resolve("fleet.html");
        Cli.Result r = Cli.run(db.overrides(), null, "report", "--out", out.toString(), "--days", "7");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote " + out).contains("2 history sample(s) over 7 day(s)");
        String html = Files.readString(out, StandardCharsets.UTF_8);

        assertThat(html).startsWith("<!DOCTYPE html>").doesNotContain("<script").doesNotContain("<img")
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;.example")
                .contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;");
        String run = section(html, "last-run");
        assertThat(run).contains("(once on node-a:42)")
                .contains("<th>names due</th><td class=\"n\">14</td>")
                .contains("<th>names pre-checked</th><td class=\"n\">4</td>")
                .contains("<th>names skipped as fresh</th><td class=\"n\">10</td>")
                .contains("<th>names ordered (production)</th><td class=\"n\">10</td>")
                .contains("<th>names ordered (staging)</th><td class=\"n\">0</td>")
                .contains("<th>orders (production)</th><td class=\"n\">1</td>")
                .contains("<th>names issued</th><td class=\"n\">10</td>")
                .contains("<th>certificates</th><td class=\"n\">1</td>")
                .contains("<th>names quarantined</th><td class=\"n\">4</td>");
        String states = section(html, "states");
        assertThat(states).contains("<th>issued</th><td class=\"n\">10</td>")
                .contains("<th>quarantined</th><td class=\"n\">4</td>")
                .contains("<th>pending</th><td class=\"n\">0</td>");
        // the issued line over the 2 samples and now: 0, 0, 10; pending: 14, 14, 0
        assertThat(tooltips(states, "issued")).containsExactly("0", "0", "10");
        assertThat(tooltips(states, "pending")).containsExactly("14", "14", "0");
        assertThat(tooltips(section(html, "reasons"), "CAA_FORBIDS")).containsExactly("0", "0", "3");
        // 90 days left: the last bucket (12 weeks or later); ~16.7 days left: week 2
        assertThat(bars(section(html, "expiry"))).containsExactly(0L, 0L, 0L, 1L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 1L);
        assertThat(section(html, "held-back")).contains("<td><code>CAA_FORBIDS</code></td><td>quarantined</td>"
                + "<td class=\"n\">3</td>");
    }

    @Test
    void anEmptyDatabaseGivesAPageThatSaysSo() throws IOException {
        Path out = dir.resolve("empty.html");
        Cli.Result r = Cli.run(db.overrides(), null, "report", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("no run recorded yet");
        assertThat(Files.readString(out)).contains("No run recorded yet").contains("No history yet");
    }

    @Test
    void badOptionsExitWithTwoAndAFileThatCannotBeWrittenWithOne() throws IOException {
        assertThat(Cli.run(db.overrides(), null, "report").exitCode()).isEqualTo(2);
        Cli.Result days = Cli.run(db.overrides(), null, "report", "--out", dir.resolve("r.html").toString(), "--days", "0");
        assertThat(days.exitCode()).isEqualTo(2);
        assertThat(days.err()).contains("--days must be between 1 and 90");
        Cli.Result missing = Cli.run(db.overrides(), null, "report", "--out", dir.resolve("no/such/r.html").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("does not exist");
        assertThat(Cli.run(db.overrides(), null, "report", "--out", dir.toString()).exitCode()).isEqualTo(2);

        Files.createDirectories(dir.resolve(".r.html.tmp/blocker")); // the temporary file cannot be created
        Cli.Result blocked = Cli.run(db.overrides(), null, "report", "--out", dir.resolve("r.html").toString());
        assertThat(blocked.exitCode()).isEqualTo(1);
        assertThat(blocked.err()).contains("cannot write the report to " + dir.resolve("r.html"));
        assertThat(dir.resolve("r.html")).doesNotExist();
    }

    @Test
    void historySamplesCountNamesByStateAndReasonAndAgeOut() {
        populate();
        HistoryStore history = new HistoryStore(db.store);
        Instant at = Instant.now();
        assertThat(history.sample(at)).as("issued, CAA_FORBIDS, DNS_SERVFAIL").isEqualTo(3);
        assertThat(query("SELECT state || '/' || coalesce(reason, '-') || '=' || count FROM fleet_history"
                + " WHERE taken_at = (SELECT max(taken_at) FROM fleet_history) ORDER BY 1"))
                .containsExactly("issued/-=10", "quarantined/CAA_FORBIDS=3", "quarantined/DNS_SERVFAIL=1");
        assertThat(history.deleteBefore(at.minus(Duration.ofHours(3)))).as("the 26 h sample (1 row) and the 25 h run")
                .isEqualTo(2);
        assertThat(query("SELECT count(*) FROM issuance_run")).containsExactly("1");
    }

    private static List<String> tooltips(String html, String series) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("<title>" + Pattern.quote(series) + ": ([0-9,]+) at ").matcher(html);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static List<Long> bars(String html) {
        List<Long> out = new ArrayList<>();
        Matcher m = Pattern.compile("<rect class=\"bar\"[^>]* data-value=\"(\\d+)\"").matcher(html);
        while (m.find()) {
            out.add(Long.parseLong(m.group(1)));
        }
        return out;
    }

    private static String section(String html, String id) {
        int from = html.indexOf("<section id=\"" + id + "\">");
        assertThat(from).as("section " + id).isNotNegative();
        return html.substring(from, html.indexOf("</section>", from));
    }

    private List<String> query(String sql) {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    private void exec(String sql) {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }
}
