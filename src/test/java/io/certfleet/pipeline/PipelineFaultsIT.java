package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.app.Certfleet;
import io.certfleet.model.PrecheckRun;
import io.certfleet.model.CaEnvironment;
import io.certfleet.app.Issuance;
import io.certfleet.config.SettingsLoader;
import io.certfleet.schedule.NightlyWindow;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.acme.BoulderProxy.Endpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/** What the CA's faults, rate limits and pauses, and a CAA change before production, do to a run. */
class PipelineFaultsIT {
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

    private String name(int i) {
        return String.format("f%d-%02d.faults.example", prefix, i);
    }

    private void importNames(int n) {
        h.importLines(java.util.stream.IntStream.range(0, n).mapToObj(this::name).toList());
    }

    private JsonNode run(Map<String, String> extra) throws Exception {
        return h.runOnce(extra);
    }

    /**
     * {@code acme.profile}: every new order asks for it, and a profile with a smaller names limit (tlsserver: 25)
     * packs the batches to fit, while {@code batch.max-names} stays at 100. A profile the CA does not offer stops the
     * run as a configuration error naming the key, before any order.
     */
    @Test
    void aProfileIsAskedForAndItsNameLimitPacksTheBatches() throws Exception {
        importNames(60);
        Map<String, String> offered = Map.of("classic", "the default", "tlsserver", "25 names, 7 h authorization reuse");
        h.staging.advertiseProfiles(offered);
        h.production.advertiseProfiles(offered);
        JsonNode s = run(Map.of("acme.profile", "tlsserver"));
        assertThat(s.get("finished").asBoolean()).as(s.toString()).isTrue();
        assertThat(s.get("names_issued").asLong()).isEqualTo(60);
        assertThat(h.count("SELECT count(*) FROM certificate")).isEqualTo(3);
        assertThat(h.count("SELECT max(n) FROM (SELECT count(*) AS n FROM certificate_name GROUP BY certificate_id) x"))
                .isLessThanOrEqualTo(25);
        assertThat(h.staging.orderProfiles()).isNotEmpty().containsOnly("tlsserver");
        assertThat(h.production.orderProfiles()).hasSize(3).containsOnly("tlsserver");
        assertThat(h.count("SELECT count(*) FROM batch WHERE environment = 'production'")).isEqualTo(3);

        h.reset();
        importNames(3);
        Cli.Result refused = Cli.run(h.overrides(Map.of("acme.profile", "shortlived")), null, "run", "--once");
        assertThat(refused.exitCode()).as(refused.err()).isEqualTo(2);
        assertThat(refused.err()).contains("acme.profile", "does not offer the profile 'shortlived'", "no profiles");
        assertThat(h.staging.orderProfiles()).as("no order was sent").isEmpty();
        assertThat(h.count("SELECT count(*) FROM acme_account")).as("no account was created either").isZero();
    }

    /**
     * A production order that keeps failing naming nobody sends its set back to staging, which clears it again: the
     * set is promoted at most {@code pipeline.max-production-reorders} more times, then its names wait (never
     * quarantined, never a production order beyond the limit).
     */
    @Test
    void aSetThatKeepsFailingInProductionIsReorderedAtMostTheConfiguredNumberOfTimes() throws Exception {
        importNames(6);
        h.production.failFinalizeNamingNobody(Set.of(name(0)));
        JsonNode s = run(Map.of("pipeline.max-production-reorders", "2"));
        assertThat(s.get("finished").asBoolean()).as(s.toString()).isTrue();
        assertThat(s.get("names_issued").asLong()).isZero();
        assertThat(h.count("SELECT count(*) FROM batch WHERE environment = 'production'"))
                .as("the first production order and 2 re-orders").isEqualTo(3);
        assertThat(h.countBy("SELECT state || ' ' || coalesce(reason_code, ''), count(*) FROM domain GROUP BY 1"))
                .containsOnlyKeys("pending PRODUCTION_REORDERS_EXHAUSTED");
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'quarantined'")).isZero();
    }

    @Test
    void outagesAndServerErrorsNeverQuarantineANameTheBatchWaitsAndRetries() throws Exception {
        importNames(30);
        h.staging.unavailable(Endpoint.NEW_ORDER, 2, Duration.ofSeconds(1));
        h.staging.unavailable(Endpoint.AUTHORIZATION, 3, Duration.ofSeconds(1));
        h.production.unavailable(Endpoint.FINALIZE, 1, Duration.ofSeconds(1));
        JsonNode s = run(Map.of());
        assertThat(s.get("finished").asBoolean()).isTrue();
        assertThat(s.get("names_issued").asLong()).isEqualTo(30);
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'quarantined'")).isZero();
        assertThat(h.count("SELECT count(*) FROM ca_event WHERE outcome = 'unavailable'")).isGreaterThanOrEqualTo(3);
        assertThat(h.staging.injectedCount(Endpoint.NEW_ORDER)).isGreaterThanOrEqualTo(2);
    }

    /**
     * Regression: Boulder's "Order cannot contain more than N identifiers" names nobody, so it was bisected and an
     * innocent name quarantined. Staging allows 4 names per order, production 3; batch.max-names is 10.
     */
    @Test
    void anOrderOverTheCasNameLimitIsSplitNeverBisectedAndNobodyIsQuarantined() throws Exception {
        importNames(10);
        h.staging.limitIdentifiersPerOrder(4);
        h.production.limitIdentifiersPerOrder(3);
        JsonNode s = run(Map.of("batch.max-names", "10"));
        assertThat(s.get("finished").asBoolean()).isTrue();
        assertThat(s.get("names_issued").asLong()).isEqualTo(10);
        assertThat(h.count("SELECT count(*) FROM domain WHERE state <> 'issued'")).isZero();
        assertThat(h.count("SELECT count(*) FROM batch WHERE state = 'split' OR cardinality(probe_ids) > 0"))
                .as("no bisection").isZero();
        // staging: 10 refused, split 4+3+3; production: the 4 refused, back to staging as 2+2; the 3s pass
        assertThat(h.countBy("SELECT environment || ' ' || (SELECT count(*) FROM batch_member m WHERE m.batch_id = b.id),"
                + " count(*) FROM batch b WHERE error_type = 'ORDER_TOO_LARGE' GROUP BY 1"))
                .containsExactlyInAnyOrderEntriesOf(Map.of("staging 10", 1L, "production 4", 1L));
        assertThat(h.staging.injectedCount(Endpoint.NEW_ORDER)).isEqualTo(1);
        assertThat(h.production.injectedCount(Endpoint.NEW_ORDER)).isEqualTo(1);
        assertThat(h.count("SELECT count(*) FROM ca_event WHERE outcome = 'order-too-large'")).isEqualTo(2);
        assertThat(h.countBy("SELECT c.id::text, count(*) FROM certificate c JOIN certificate_name n"
                + " ON n.certificate_id = c.id GROUP BY c.id").values())
                .containsExactlyInAnyOrder(2L, 2L, 3L, 3L);
    }

    @Test
    void aRateLimitForANameStoresTheRetryAfterDurablyForThatNameOnlyAndQuarantinesNobody() throws Exception {
        importNames(20);
        h.staging.rateLimitAtNewOrder(Set.of(name(3)), Duration.ofHours(1));
        JsonNode first = run(Map.of());
        assertThat(first.get("names_issued").asLong()).as("the other 19 are ordered without it").isEqualTo(19);
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'quarantined'")).isZero();
        assertThat(h.countBy("SELECT name, 1 FROM v_domain_status WHERE state = 'held'"
                + " AND reason = 'RATE_LIMITED_FAILED_AUTHORIZATIONS'"
                + " AND next_attempt BETWEEN now() + interval '55 minutes' AND now() + interval '65 minutes'"))
                .containsOnlyKeys(name(3));
        assertThat(h.count("SELECT count(*) FROM ca_limit_wait WHERE scope = 'name' AND subject = '" + name(3) + "'"
                + " AND not_before BETWEEN now() + interval '55 minutes' AND now() + interval '65 minutes'")).isEqualTo(1);
        assertThat(h.count("SELECT count(*) FROM ca_event WHERE outcome = 'rate-limited' AND retry_after IS NOT NULL"))
                .isEqualTo(1);

        // not due yet: a second run leaves it alone
        assertThat(run(Map.of()).get("names_issued").asLong()).isZero();
        // an hour later (the CA's limit has passed): the name is ordered
        h.staging.clearRules();
        h.execute("UPDATE ca_limit_wait SET not_before = now() - interval '1 second'");
        h.execute("UPDATE domain SET next_attempt_at = now() WHERE state = 'held'");
        JsonNode second = run(Map.of());
        assertThat(second.get("finished").asBoolean()).isTrue();
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(20);
    }

    @Test
    void aPausedNameIsTakenOutWithItsUnpauseUrlAndTheRestIsIssued() throws Exception {
        importNames(10);
        h.staging.pauseAtNewOrder(Set.of(name(4)));
        JsonNode s = run(Map.of());
        assertThat(s.get("names_issued").asLong()).isEqualTo(9);
        assertThat(h.countBy("SELECT reason_code || ' ' || (reason_detail LIKE '%unpause?jwt=%'), 1 FROM domain"
                + " WHERE state = 'quarantined'")).containsOnlyKeys("CA_PAUSED true");
        // the operator's view: the name, the account it is paused on and the URL to unpause it at
        assertThat(h.countBy("SELECT name || ' ' || environment || ' ' || (account_url = (SELECT account_url FROM"
                + " acme_account WHERE environment = 'staging')) || ' ' || unpause_url, 1 FROM v_paused_names"))
                .containsOnlyKeys(name(4) + " staging true "
                        + "https://portal.letsencrypt.test/sfe/v1/unpause?jwt=eyJhbGciOiJIUzI1NiJ9.e30.c2ln");
        // run --once is recorded as a run, with a fleet sample at its end
        assertThat(h.count("SELECT count(*) FROM issuance_run WHERE kind = 'once' AND ended_at >= started_at")).isEqualTo(1);
        assertThat(h.countBy("SELECT state || '/' || coalesce(reason, '-'), count FROM fleet_history"))
                .containsExactlyInAnyOrderEntriesOf(Map.of("issued/-", 9L, "quarantined/CA_PAUSED", 1L));
    }

    /** A daily cron firing at {@code at} (UTC, whole minutes). */
    private static String dailyAt(Instant at) {
        ZonedDateTime t = at.atZone(ZoneOffset.UTC);
        return "0 " + t.getMinute() + " " + t.getHour() + " * * ?";
    }

    @Test
    void outsideTheNightlyWindowNoOrderStartsAndTheBatchWaitsForTheNextOpening() throws Exception {
        importNames(5);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MINUTES);
        Instant opens = now.plus(Duration.ofHours(2));
        h.staging.resetCounts();
        try (Certfleet app = Certfleet.open(SettingsLoader.load(Optional.empty(), Map.of(), h.overrides()))) {
            Issuance.Responder responder = Issuance.startResponder(app, Clock.systemUTC());
            Issuance closed = Issuance.start(app, Clock.systemUTC(), responder, UnaryOperator.identity(),
                    io.certfleet.acme.RequestListener.NONE,
                    new NightlyWindow(dailyAt(opens), ZoneOffset.UTC, Duration.ofHours(1)));
            closed.pipeline().admit();
            closed.pipeline().stepDue();
            assertThat(h.count("SELECT count(*) FROM batch WHERE state = 'planned' AND error_type = 'WINDOW_CLOSED'"
                    + " AND not_before = '" + opens + "'::timestamptz")).isEqualTo(1);
            assertThat(h.count("SELECT count(*) FROM batch WHERE order_url IS NOT NULL")).isZero();
            assertThat(h.staging.count(Endpoint.NEW_ORDER)).as("new-order requests").isZero();

            // the window that opened a minute ago lets the same batch go (the waiting batch is due at once)
            h.execute("UPDATE batch SET not_before = now()");
            Issuance open = Issuance.start(app, Clock.systemUTC(), responder, UnaryOperator.identity(),
                    io.certfleet.acme.RequestListener.NONE,
                    new NightlyWindow(dailyAt(now.minus(Duration.ofMinutes(1))), ZoneOffset.UTC, Duration.ofHours(1)));
            CycleSummary s = open.pipeline().runOnce(Duration.ofMinutes(3));
            assertThat(s.finished()).isTrue();
            assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(5);
        }
    }

    @Test
    void caaChangedBeforeProductionIsCaughtByTheRecheckBeforeFinalize() throws Exception {
        importNames(10);
        String culprit = name(6);
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger rechecks = new AtomicInteger();
        Map<String, String> o = new HashMap<>(h.overrides());
        // eight hours from now every production validation is older than the 7 h Let's Encrypt rechecks after
        Clock later = Clock.offset(Clock.systemUTC(), Duration.ofHours(8));
        try (Certfleet app = Certfleet.open(SettingsLoader.load(Optional.empty(), Map.of(), o))) {
            // (the responder keeps real time: the CA fetches the proofs now)
            Issuance.Responder responder = Issuance.startResponder(app, Clock.systemUTC());
            Issuance issuance = Issuance.start(app, later, responder, real -> new Prechecker() {
                @Override
                public PrecheckRun check(List<String> ids, CaEnvironment env) {
                    calls.incrementAndGet();
                    return real.check(ids, env);
                }

                @Override
                public PrecheckRun recheck(List<String> ids, CaEnvironment env) {
                    if (rechecks.incrementAndGet() == 1) {
                        // between the rehearsal and production, the customer publishes a CAA record for another CA
                        h.pebbles.addCaa(culprit, "issue", "other-ca.example");
                    }
                    return real.recheck(ids, env);
                }
            });
            CycleSummary s = issuance.pipeline().runOnce(Duration.ofMinutes(3));
            assertThat(s.finished()).isTrue();
            assertThat(calls.get()).as("admission").isPositive();
            assertThat(rechecks.get()).as("the recheck before production finalize").isPositive();
            assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(9);
            assertThat(h.countBy("SELECT d.name, 1 FROM domain d WHERE state = 'quarantined' AND reason_code = 'CAA_FORBIDS'"
                    + " AND reason_detail LIKE 'CAA recheck before production finalize%'")).containsOnlyKeys(culprit);
            // the order holding the culprit was never finalized: every production certificate lacks it
            assertThat(h.count("SELECT count(*) FROM certificate_name cn JOIN domain d ON d.id = cn.domain_id"
                    + " WHERE d.name = '" + culprit + "'")).isZero();
        } finally {
            h.pebbles.clearCaa(culprit);
        }
    }

    @Test
    void aQuarantinedNameIsCheckedAgainAtItsNextAttemptAndRejoinsWhenItPasses() throws Exception {
        importNames(5);
        String fixedLater = name(2);
        h.pebbles.addCaa(fixedLater, "issue", "other-ca.example");
        try {
            JsonNode first = run(Map.of());
            assertThat(first.get("names_issued").asLong()).isEqualTo(4);
            assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'quarantined' AND reason_code = 'CAA_FORBIDS'"
                    + " AND next_attempt_at > now() + interval '50 minutes'")).isEqualTo(1);
            // not due yet: a second run leaves it alone
            run(Map.of());
            assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'quarantined'")).isEqualTo(1);
        } finally {
            h.pebbles.clearCaa(fixedLater);
        }
        // the customer fixed the record and the backoff has passed
        h.execute("UPDATE domain SET next_attempt_at = now() - interval '1 minute' WHERE state = 'quarantined'");
        JsonNode again = run(Map.of());
        assertThat(again.get("names_issued").asLong()).isEqualTo(1);
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(5);
        assertThat(h.count("SELECT count(*) FROM precheck_result pr JOIN domain d ON d.id = pr.domain_id"
                + " WHERE d.name = '" + fixedLater + "'")).isEqualTo(2);
    }

    @Test
    void renewalRepacksTheNamesAndReplacesTheOldCertificateWithoutARehearsalWhileAuthorizationsAreFresh()
            throws Exception {
        importNames(8);
        assertThat(run(Map.of()).get("names_issued").asLong()).isEqualTo(8);
        assertThat(h.count("SELECT count(*) FROM certificate WHERE renew_at > not_before + (not_after - not_before) * 0.6"
                + " AND renew_at < not_before + (not_after - not_before) * 0.75 AND renew_basis LIKE 'around 2/3%'"))
                .as("Pebble 2.4 has no ARI: renewal at about 2/3 of the lifetime").isEqualTo(1);
        long stagingOrdersBefore = h.count("SELECT count(DISTINCT order_url) FROM batch WHERE environment = 'staging'");

        h.execute("UPDATE certificate SET renew_at = now() - interval '1 minute'");
        JsonNode renewal = run(Map.of());
        assertThat(renewal.get("names_issued").asLong()).isEqualTo(8);
        assertThat(renewal.get("skipped_fresh").asLong()).isEqualTo(8);
        assertThat(h.count("SELECT count(DISTINCT order_url) FROM batch WHERE environment = 'staging'"))
                .as("fresh production authorizations need no rehearsal").isEqualTo(stagingOrdersBefore);
        assertThat(h.count("SELECT count(*) FROM certificate")).isEqualTo(2);
        assertThat(h.count("SELECT count(*) FROM certificate old JOIN certificate n ON n.id = old.replaced_by_id"
                + " WHERE n.id > old.id")).isEqualTo(1);
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(8);
        // nothing is due any more
        assertThat(run(Map.of()).get("names_issued").asLong()).isZero();
    }

    @Test
    void renewalTimeFollowsTheCasAriWindow() throws Exception {
        java.time.Instant start = java.time.Instant.now().plus(Duration.ofDays(20));
        java.time.Instant end = start.plus(Duration.ofDays(2));
        h.production.serveRenewalInfo(start, end);
        try {
            importNames(3);
            assertThat(run(Map.of()).get("names_issued").asLong()).isEqualTo(3);
            assertThat(h.count("SELECT count(*) FROM certificate WHERE renew_basis LIKE 'ARI window%'"
                    + " AND renew_at BETWEEN '" + start + "' AND '" + end + "'")).isEqualTo(1);
        } finally {
            h.production.clearRules();
        }
    }

    @Test
    void planShowsExactlyTheOrdersTheNextRunPlacesWithoutContactingTheCa() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 130; i++) {
            sb.append(name(i)).append(",cust").append(i / 13).append('\n');
        }
        sb.append("*.wild").append(prefix).append(".faults.example\n");
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.UTF_8)),
                "import", "-").exitCode()).isZero();
        int newOrdersBefore = h.staging.count(Endpoint.NEW_ORDER);
        Cli.Result planned = Cli.run(h.overrides(), null, "plan", "--format", "json");
        assertThat(planned.exitCode()).as(planned.err()).isZero();
        assertThat(h.staging.count(Endpoint.NEW_ORDER)).as("plan places no order").isEqualTo(newOrdersBefore);
        JsonNode plan = JSON.readTree(planned.out());
        assertThat(plan.get("due").asInt()).isEqualTo(131);
        assertThat(plan.get("wildcards_held").size()).isEqualTo(1);
        java.util.Set<java.util.Set<String>> plannedSets = new java.util.HashSet<>();
        plan.get("orders").forEach(o -> {
            assertThat(o.get("environment").asText()).isEqualTo("staging");
            java.util.Set<String> names = new java.util.TreeSet<>();
            o.get("names").forEach(n -> names.add(n.asText()));
            plannedSets.add(names);
        });
        assertThat(plannedSets).hasSize(2);
        assertThat(plan.get("budget").get("staging").get("orders_planned").asInt()).isEqualTo(2);

        run(Map.of());
        java.util.Set<java.util.Set<String>> ordered = new java.util.HashSet<>();
        for (var e : h.countBy("SELECT b.id::text, count(*) FROM batch b WHERE b.environment = 'staging'"
                + " AND b.parent_id IS NULL GROUP BY b.id").keySet()) {
            ordered.add(new java.util.TreeSet<>(h.countBy("SELECT d.identifier, 1 FROM batch_member m JOIN domain d"
                    + " ON d.id = m.domain_id WHERE m.batch_id = " + e).keySet()));
        }
        assertThat(ordered).isEqualTo(plannedSets);
    }

    @Test
    void theLedgerHoldsBackExactlyTheNamesThatWouldExceedALimitWithTheReasonAndTime() throws Exception {
        String a = "shop-a" + prefix + ".com";
        String b = "shop-b" + prefix + ".com";
        String lines = "w1." + a + ",A\nw2." + a + ",A\nw1." + b + ",B\n";
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(lines.getBytes(StandardCharsets.UTF_8)), "import", "-")
                .exitCode()).isZero();
        Map<String, String> tight = Map.of("budget.production.certificates-per-domain-per-7d", "1",
                "batch.grouping", "per-customer");
        assertThat(run(tight).get("names_issued").asLong()).isEqualTo(3); // one certificate for each registered domain

        String more = "w3." + a + ",C\nw2." + b + ",D\n";
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(more.getBytes(StandardCharsets.UTF_8)), "import", "-")
                .exitCode()).isZero();
        Map<String, String> o = new HashMap<>(h.overrides());
        o.putAll(tight);
        JsonNode plan = JSON.readTree(Cli.run(o, null, "plan", "--format", "json").out());
        assertThat(plan.get("held_for_budget").get("BUDGET_CERTIFICATES_PER_DOMAIN").asInt()).isEqualTo(2);
        assertThat(plan.get("orders").size()).isZero();

        JsonNode s = run(tight);
        assertThat(s.get("names_issued").asLong()).isZero();
        assertThat(h.countBy("SELECT name, 1 FROM domain WHERE state = 'held' AND reason_code = 'BUDGET_CERTIFICATES_PER_DOMAIN'"
                + " AND next_attempt_at BETWEEN now() + interval '6 days 23 hours' AND now() + interval '7 days 1 hour'"))
                .containsOnlyKeys("w3." + a, "w2." + b);
    }

    @Test
    void ordersOverTheNewOrderWindowWaitForItWithoutCountingAFailure() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            sb.append(name(i)).append(",cust").append(i / 2).append('\n');
        }
        assertThat(Cli.run(h.overrides(), new ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.UTF_8)),
                "import", "-").exitCode()).isZero();
        h.pebbles.addA(name(0), "127.0.0.2"); // its validation fails, so its batch needs a second order
        try {
            JsonNode s = run(Map.of("budget.staging.new-orders-per-3h", "1", "batch.grouping", "per-customer",
                    "pipeline.run-timeout", "PT20S"));
            assertThat(s.get("finished").asBoolean()).isFalse();
        } finally {
            h.pebbles.clearA(name(0));
        }
        // admission planned only the one order the window allowed; the other customer's names wait for the window
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'held' AND reason_code = 'BUDGET_NEW_ORDERS'"
                + " AND next_attempt_at BETWEEN now() + interval '2 hours 55 minutes' AND now() + interval '3 hours'"))
                .isEqualTo(2);
        // the re-rehearsal after the validation failure waits at order time, as a wait, not a failure
        assertThat(h.count("SELECT count(*) FROM batch WHERE state = 'planned' AND error_type = 'BUDGET_NEW_ORDERS'"
                + " AND not_before BETWEEN now() + interval '2 hours 55 minutes' AND now() + interval '3 hours'"))
                .isEqualTo(1);
        assertThat(h.countBy("SELECT reason_code, count(*) FROM domain WHERE state = 'quarantined' GROUP BY 1"))
                .containsOnlyKeys("CA_CONNECTION");
    }

    /** Regression: a batch's CA-side failures were counted over its whole life, so scattered faults abandoned it. */
    @Test
    void caFailuresSeparatedByProgressDoNotAddUpToAbandoningTheBatch() throws Exception {
        importNames(5);
        h.staging.unavailable(Endpoint.NEW_ORDER, 1, Duration.ofSeconds(1));
        h.staging.unavailable(Endpoint.FINALIZE, 1, Duration.ofSeconds(1));
        JsonNode s = run(Map.of("pipeline.max-attempts", "2"));
        assertThat(s.get("names_issued").asLong()).isEqualTo(5);
        assertThat(h.count("SELECT count(*) FROM batch WHERE state = 'abandoned'")).isZero();
        assertThat(h.staging.injectedCount(Endpoint.FINALIZE)).isEqualTo(1);
    }

    /**
     * A node that keeps running after 'keys rotate' replaced its key (its account keys already in memory): the
     * rehearsal goes on, but the production order's certificate key is refused rather than stored under the old
     * key; the batch waits without a failure counted and no name is blamed; a node with the new key then finishes.
     */
    @Test
    void aNodeWhoseSecretsKeyWasReplacedStoresNoKeyCountsNoFailureAndANodeWithTheNewKeyFinishes() throws Exception {
        byte[] oldKey = new byte[32];
        byte[] newKey = new byte[32];
        new java.security.SecureRandom().nextBytes(oldKey);
        new java.security.SecureRandom().nextBytes(newKey);
        Map<String, String> o = new HashMap<>(h.overrides());
        o.put("secrets.key", java.util.Base64.getEncoder().encodeToString(oldKey));
        String names = name(0) + "\n" + name(1) + "\n" + name(2) + "\n";
        assertThat(Cli.run(o, new ByteArrayInputStream(names.getBytes(StandardCharsets.UTF_8)), "import", "-")
                .exitCode()).isZero();
        try (Certfleet app = Certfleet.open(SettingsLoader.load(Optional.empty(), Map.of(), o))) {
            Issuance issuance = Issuance.start(app, Clock.systemUTC());
            io.certfleet.store.KeyRotation.rotate(app.store(), app.secrets(), new io.certfleet.store.SecretBox(newKey),
                    Duration.ofSeconds(10));
            Pipeline stale = issuance.pipeline();
            stale.admit();
            long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (h.count("SELECT count(*) FROM batch WHERE error_type = 'SECRETS_KEY_REPLACED'") == 0) {
                assertThat(System.nanoTime()).as("the production order was never tried").isLessThan(until);
                if (stale.stepDue() == 0) {
                    Thread.sleep(200);
                }
            }
        }
        assertThat(h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND state = 'planned'"
                + " AND error_type = 'SECRETS_KEY_REPLACED' AND ca_failures = 0 AND cert_key_ciphertext IS NULL"
                + " AND not_before > now()")).isEqualTo(1);
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'quarantined'")).isZero();
        assertThat(h.count("SELECT count(*) FROM certificate")).isZero();

        h.execute("UPDATE batch SET not_before = now() WHERE error_type = 'SECRETS_KEY_REPLACED'");
        o.put("secrets.key", java.util.Base64.getEncoder().encodeToString(newKey));
        Cli.Result r = Cli.run(o, null, "run", "--once", "--format", "json");
        assertThat(JSON.readTree(r.out()).get("names_issued").asLong()).as(r.err()).isEqualTo(3);
        long cert = h.count("SELECT max(id) FROM certificate");
        assertThat(new String(new io.certfleet.store.CertificateStore(h.db.store, new io.certfleet.store.SecretBox(newKey))
                .privateKey(cert))).startsWith("-----BEGIN");
    }
}
