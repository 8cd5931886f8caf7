package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.acme.BoulderProxy;
import io.certfleet.testsupport.acme.BoulderProxy.Endpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Let's Encrypt's limits end to end, against real Pebbles behind the Boulder-behaviour proxy: the CA's 429 per
 * scope (account, registered domain, names), the pause guard and the operator's release, failed authorizations per
 * hour, the exact-set ledger, and ARI {@code replaces} (which Pebble 2.4.0 lacks: the proxy serves renewalInfo and
 * checks {@code replaces} as Boulder does).
 */
class LimitsIT {
    private static PipelineHarness h;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static int prefix;

    @BeforeAll
    static void start() throws Exception {
        h = new PipelineHarness();
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    @BeforeEach
    void clean() {
        h.reset();
        prefix++;
    }

    private String name(String label) {
        return label + ".l" + prefix + ".limits.example";
    }

    private void importLines(String... lines) {
        h.importLines(List.of(lines));
    }

    private Map<String, String> with(Map<String, String> extra) {
        return h.overrides(extra);
    }

    private JsonNode run(Map<String, String> extra) throws Exception {
        return h.runOnce(extra);
    }

    private JsonNode plan(Map<String, String> extra) throws Exception {
        Cli.Result r = Cli.run(with(extra), null, "plan", "--format", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        return JSON.readTree(r.out());
    }

    /** Names in v_domain_status with this state and reason whose next attempt lies {@code in} from now (±10 min). */
    private Set<String> waiting(String state, String reason, Duration in) throws Exception {
        return h.countBy("SELECT name, 1 FROM v_domain_status WHERE state = '" + state + "' AND reason = '" + reason
                + "' AND next_attempt BETWEEN now() + interval '" + in.minusMinutes(10).toSeconds() + " seconds'"
                + " AND now() + interval '" + in.plusMinutes(10).toSeconds() + " seconds'").keySet();
    }

    @Test
    void aCertificatesPerDomain429HoldsEveryNameOfThatRegisteredDomainAndTheRestIsIssued() throws Exception {
        String shop = "shop" + prefix + ".com";
        importLines("a." + shop, "b." + shop, name("www"));
        h.staging.certificatesPerDomainLimitAtNewOrder(shop, Set.of("a." + shop), Duration.ofHours(30));
        JsonNode s = run(Map.of());
        assertThat(s.get("names_issued").asLong()).isEqualTo(1);
        assertThat(waiting("held", "RATE_LIMITED_CERTIFICATES_PER_DOMAIN", Duration.ofHours(30)))
                .containsExactlyInAnyOrder("a." + shop, "b." + shop);
        assertThat(h.countBy("SELECT environment || ' ' || scope || ' ' || subject, 1 FROM ca_limit_wait"))
                .containsOnlyKeys("staging registered_domain " + shop);
        // regression: a member without a registered domain (here under .example) broke the scope check
        assertThat(h.count("SELECT count(*) FROM batch WHERE error_type LIKE '%Exception'")).isZero();

        // a name of that registered domain imported later waits at admission: no pre-check, no order
        importLines("c." + shop);
        assertThat(plan(Map.of()).get("held_for_budget").get("RATE_LIMITED_CERTIFICATES_PER_DOMAIN").asInt())
                .isEqualTo(1);
        int ordersBefore = h.staging.count(Endpoint.NEW_ORDER);
        assertThat(run(Map.of()).get("names_issued").asLong()).isZero();
        assertThat(h.staging.count(Endpoint.NEW_ORDER)).isEqualTo(ordersBefore);
        assertThat(waiting("held", "RATE_LIMITED_CERTIFICATES_PER_DOMAIN", Duration.ofHours(30))).contains("c." + shop);
        assertThat(h.count("SELECT count(*) FROM precheck_result pr JOIN domain d ON d.id = pr.domain_id"
                + " WHERE d.name = 'c." + shop + "'")).isZero();

        // the operator's tables show the wait and the reason
        Cli.Result status = Cli.run(h.overrides(), null, "status");
        assertThat(status.exitCode()).as(status.err()).isZero();
        assertThat(status.out()).contains("held:RATE_LIMITED_CERTIFICATES_PER_DOMAIN").contains("The CA's 429 waits:")
                .containsPattern("staging +certificates_per_domain +registered_domain +" + shop.replace(".", "\\.")
                        + " +until ");
        Cli.Result plan = Cli.run(h.overrides(), null, "plan");
        assertThat(plan.exitCode()).as(plan.err()).isZero();
        assertThat(plan.out()).contains("RATE_LIMITED_CERTIFICATES_PER_DOMAIN");
    }

    @Test
    void theAccountsNewOrder429MakesTheEnvironmentWaitAndNewNamesWaitWithItsTime() throws Exception {
        importLines(name("a"), name("b"));
        h.staging.newOrdersLimit(1, Duration.ofHours(1));
        JsonNode first = run(Map.of("pipeline.run-timeout", "PT1S"));
        assertThat(first.get("finished").asBoolean()).isFalse();
        assertThat(h.count("SELECT count(*) FROM batch WHERE state = 'planned' AND error_type = 'RATE_LIMITED_NEW_ORDERS'"
                + " AND not_before BETWEEN now() + interval '55 minutes' AND now() + interval '65 minutes'")).isEqualTo(1);
        assertThat(h.countBy("SELECT scope || ' ' || ca_limit, 1 FROM ca_limit_wait")).containsOnlyKeys("account new_orders");

        importLines(name("c"));
        run(Map.of("pipeline.run-timeout", "PT1S"));
        assertThat(waiting("held", "RATE_LIMITED_NEW_ORDERS", Duration.ofHours(1))).containsExactly(name("c"));
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'quarantined'")).isZero();

        // the hour has passed: everything goes
        h.execute("UPDATE ca_limit_wait SET not_before = now() - interval '1 second'");
        h.execute("UPDATE batch SET not_before = now() WHERE error_type = 'RATE_LIMITED_NEW_ORDERS'");
        h.execute("UPDATE domain SET next_attempt_at = now() WHERE state = 'held'");
        assertThat(run(Map.of()).get("names_issued").asLong()).isEqualTo(3);
    }

    @Test
    void anExactSet429AtProductionHoldsTheWholeSetForTheCasTime() throws Exception {
        importLines(name("a"), name("b"));
        h.production.exactSetLimitAtNewOrder(Set.of(name("a")), Duration.ofDays(3));
        JsonNode s = run(Map.of());
        assertThat(s.get("names_issued").asLong()).isZero();
        assertThat(s.get("finished").asBoolean()).isTrue();
        assertThat(waiting("held", "RATE_LIMITED_EXACT_SET", Duration.ofDays(3)))
                .containsExactlyInAnyOrder(name("a"), name("b"));
        assertThat(h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND state = 'abandoned'"
                + " AND error_type = 'RATE_LIMITED_EXACT_SET'")).isEqualTo(1);
        assertThat(h.countBy("SELECT subject, 1 FROM ca_limit_wait WHERE scope = 'name' AND ca_limit = 'exact_set'"
                + " AND environment = 'production'")).containsOnlyKeys(name("a"), name("b"));
    }

    @Test
    void aPausedNameStopsUntilAnOperatorReleasesItThenItIsIssued() throws Exception {
        importLines(name("a"), name("p"));
        h.staging.pauseAtNewOrder(Set.of(name("p")));
        assertThat(run(Map.of()).get("names_issued").asLong()).isEqualTo(1);
        assertThat(h.countBy("SELECT name, 1 FROM v_domain_status WHERE state = 'quarantined' AND reason = 'CA_PAUSED'"
                + " AND next_attempt IS NULL AND detail LIKE '%unpause?jwt=%'")).containsOnlyKeys(name("p"));
        assertThat(run(Map.of()).get("names_issued").asLong()).as("a stopped name is never due").isZero();

        // the operator unpaused it at Let's Encrypt's portal, then releases it
        h.staging.clearRules();
        Cli.Result released = Cli.run(h.overrides(), null, "release", name("p"), "unknown.l" + prefix + ".example");
        assertThat(released.exitCode()).as("one of the names was not stopped").isEqualTo(1);
        assertThat(released.out()).contains("released " + name("p") + " (was CA_PAUSED)");
        assertThat(released.err()).contains("unknown.l" + prefix + ".example: not released");
        assertThat(run(Map.of()).get("names_issued").asLong()).isEqualTo(1);
    }

    @Test
    void thePauseGuardStopsANameWhoseValidationKeepsFailingAndAValidOneAfterTheReleaseEndsItsRun() throws Exception {
        String bad = name("bad");
        importLines(name("ok"), bad);
        Map<String, String> guard = Map.of("budget.pause-guard-failures", "2");
        h.pebbles.addA(bad, "127.0.0.2"); // nothing answers there: the CA cannot fetch the proof
        try {
            assertThat(run(guard).get("names_issued").asLong()).isEqualTo(1);
            assertThat(h.countBy("SELECT reason, 1 FROM v_domain_status WHERE name = '" + bad + "'"))
                    .containsOnlyKeys("CA_CONNECTION");
            assertThat(h.count("SELECT failures FROM authz_failure_streak")).isEqualTo(1);

            h.execute("UPDATE domain SET next_attempt_at = now() WHERE state = 'quarantined'");
            run(guard);
            assertThat(h.countBy("SELECT name, 1 FROM v_domain_status WHERE state = 'quarantined'"
                    + " AND reason = 'PAUSE_GUARD' AND next_attempt IS NULL AND detail LIKE '%2 authorizations of this"
                    + " name failed in a row%'")).containsOnlyKeys(bad);
            JsonNode status = JSON.readTree(Cli.run(with(guard), null, "status", "--format", "json").out());
            assertThat(status.get("limits").get("pause_guard").get("names_stopped").asInt()).isEqualTo(1);
        } finally {
            h.pebbles.clearA(bad);
        }
        // the customer fixed the record; the operator releases every name the guard stopped
        Cli.Result released = Cli.run(h.overrides(), null, "release", "--reason", "PAUSE_GUARD");
        assertThat(released.exitCode()).as(released.err()).isZero();
        assertThat(h.count("SELECT count(*) FROM authz_failure_streak")).isZero();
        assertThat(run(guard).get("names_issued").asLong()).isEqualTo(1);
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(2);
    }

    @Test
    void aNameAtTheFailedAuthorizationLimitWaitsUntilItsOldestFailureLeavesTheHour() throws Exception {
        String bad = name("bad");
        importLines(bad);
        Map<String, String> low = Map.of("budget.staging.failed-authorizations-per-hour", "1");
        h.pebbles.addA(bad, "127.0.0.2");
        try {
            run(low);
        } finally {
            h.pebbles.clearA(bad);
        }
        h.execute("UPDATE domain SET next_attempt_at = now() WHERE state = 'quarantined'");
        JsonNode plan = plan(low);
        assertThat(plan.get("held_for_budget").get("BUDGET_FAILED_AUTHORIZATIONS").asInt()).isEqualTo(1);
        int ordersBefore = h.staging.count(Endpoint.NEW_ORDER);
        assertThat(run(low).get("names_issued").asLong()).isZero();
        assertThat(h.staging.count(Endpoint.NEW_ORDER)).isEqualTo(ordersBefore);
        assertThat(h.count("SELECT count(*) FROM v_domain_status v, ca_event e WHERE v.name = '" + bad + "'"
                + " AND v.state = 'held' AND v.reason = 'BUDGET_FAILED_AUTHORIZATIONS' AND e.request = 'AUTHORIZATION'"
                + " AND e.outcome = 'invalid' AND abs(extract(epoch FROM v.next_attempt - (e.occurred_at + interval '1 hour')))"
                + " < 1")).isEqualTo(1);
    }

    @Test
    void theSameExactSetIssuedUpToItsLimitWaitsAsAWholeUntilItsCertificateLeavesTheWeek() throws Exception {
        importLines(name("a") + ",shop", name("b") + ",shop");
        Map<String, String> once = Map.of("budget.production.certificates-per-exact-set-per-7d", "1");
        assertThat(run(once).get("names_issued").asLong()).isEqualTo(2);
        // renewal due (Pebble 2.4.0 offers no ARI: nothing exempts it)
        h.execute("UPDATE certificate SET renew_at = now() - interval '1 minute'");
        assertThat(plan(once).get("held_for_budget").get("BUDGET_EXACT_SET").asInt()).isEqualTo(2);
        assertThat(run(once).get("names_issued").asLong()).isZero();
        assertThat(h.count("SELECT count(*) FROM v_domain_status v, certificate c WHERE v.state = 'held'"
                + " AND v.reason = 'BUDGET_EXACT_SET' AND abs(extract(epoch FROM v.next_attempt"
                + " - (c.created_at + interval '7 days'))) < 1")).isEqualTo(2);
        assertThat(h.count("SELECT count(*) FROM certificate")).isEqualTo(1);
    }

    @Test
    void anAriRenewalCarriesReplacesAndGoesEvenWhenTheNewOrderWindowIsFull() throws Exception {
        Instant now = Instant.now();
        h.production.serveRenewalInfo(now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(2)));
        importLines(name("a") + ",shop", name("b") + ",shop", name("c") + ",shop");
        Map<String, String> oneOrder = Map.of("budget.production.new-orders-per-3h", "1");
        assertThat(run(oneOrder).get("names_issued").asLong()).isEqualTo(3);
        assertThat(h.production.newOrdersWithoutReplaces()).isEqualTo(1);
        assertThat(h.count("SELECT count(*) FROM certificate WHERE ari_cert_id IS NOT NULL"
                + " AND ari_window_start IS NOT NULL")).isEqualTo(1);
        String certId = h.countBy("SELECT ari_cert_id, 1 FROM certificate").keySet().iterator().next();

        // renewal due: the production window is used up, but a renewal inside its ARI window is exempt
        h.execute("UPDATE certificate SET renew_at = now() - interval '1 minute'");
        JsonNode plan = plan(oneOrder);
        assertThat(plan.get("budget").get("production").get("orders_ari_exempt").asInt()).isEqualTo(1);
        assertThat(plan.get("orders").size()).isEqualTo(1);
        assertThat(run(oneOrder).get("names_issued").asLong()).isEqualTo(3);
        List<BoulderProxy.Replacement> replacements = h.production.replacements();
        assertThat(replacements).singleElement().satisfies(r -> {
            assertThat(r.replaces()).isEqualTo(certId);
            assertThat(r.sharesAName()).isTrue();
            assertThat(r.status()).isEqualTo(201);
        });
        assertThat(h.count("SELECT count(*) FROM ca_event WHERE request = 'NEW_ORDER' AND environment = 'production'"
                + " AND replaces = '" + certId + "' AND limits_exempt")).isEqualTo(1);
        assertThat(h.count("SELECT count(*) FROM certificate old JOIN certificate n ON n.id = old.replaced_by_id"
                + " JOIN batch b ON b.id = n.batch_id WHERE b.replaces_certificate_id = old.id")).isEqualTo(1);
    }

    @Test
    void whenTheCaSaysTheCertificateIsAlreadyReplacedTheRenewalIsOrderedWithoutReplaces() throws Exception {
        Instant now = Instant.now();
        h.production.serveRenewalInfo(now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(2)));
        importLines(name("a"));
        assertThat(run(Map.of()).get("names_issued").asLong()).isEqualTo(1);
        h.execute("UPDATE certificate SET renew_at = now() - interval '1 minute'");
        // an order replacing it exists at the CA already (one a crash left behind, say)
        h.production.markReplaced(h.countBy("SELECT ari_cert_id, 1 FROM certificate").keySet().iterator().next());
        assertThat(run(Map.of()).get("names_issued").asLong()).isEqualTo(1);
        assertThat(h.production.replacements()).extracting(BoulderProxy.Replacement::status).containsExactly(409);
        assertThat(h.count("SELECT count(*) FROM batch WHERE replaces_refused AND state = 'issued'")).isEqualTo(1);
        assertThat(h.count("SELECT count(*) FROM ca_event WHERE outcome = 'replaces-refused'")).isEqualTo(1);
    }
}
