package io.certfleet.store;

import io.certfleet.batch.Budget;
import io.certfleet.model.BatchState;
import io.certfleet.model.BatchTransition;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaLimit;
import io.certfleet.model.CaLimitWait;
import io.certfleet.model.DomainName;
import io.certfleet.model.DomainState;
import io.certfleet.model.NewDomain;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The ledger's and the limits' SQL on the real PostgreSQL (non-UTC session time zone). */
class LimitStoreIT {
    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    private final TestDatabase db = TestDatabase.get();
    private final LedgerStore ledger = new LedgerStore(db.store);
    private final LimitStore limits = new LimitStore(db.store);
    private final BatchStore batches = new BatchStore(db.store);
    private long account;

    @BeforeEach
    void setUp() throws SQLException {
        db.clean();
        new DomainStore(db.store).insertNew(List.of(
                name("a.shop.example", "shop.example"), name("a-b.shop.example", "shop.example"),
                name("ab.shop.example", "shop.example"), name("www.other.org", "other.org")));
        account = count("INSERT INTO acme_account (environment, directory_url, account_url, key_ciphertext)"
                + " VALUES ('production', 'https://ca.test/dir', 'https://ca.test/acct/1', '\\x00') RETURNING id");
    }

    private static NewDomain name(String n, String registered) {
        try {
            return new NewDomain(DomainName.parse(n), n, Optional.empty(), Optional.of(registered));
        } catch (io.certfleet.model.InvalidDomainNameException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private long id(String identifier) throws SQLException {
        return count("SELECT id FROM domain WHERE identifier = '" + identifier + "'");
    }

    @Test
    void theExactSetKeyOfTheDatabaseIsTheKeyPackingComputesWhateverTheCollation() throws SQLException {
        // '-' sorts before '.' in byte order but not in most linguistic collations
        List<String> set = List.of("ab.shop.example", "a.shop.example", "a-b.shop.example");
        exec("INSERT INTO certificate (environment, names, serial, not_before, not_after, chain_pem, key_algorithm,"
                + " key_ciphertext, created_at) VALUES ('production', ARRAY['ab.shop.example', 'a.shop.example',"
                + " 'a-b.shop.example'], '01', now(), now() + interval '90 days', 'x', 'EC', '\\x00',"
                + " now() - interval '2 days'), ('production', ARRAY['a.shop.example'], '02', now(),"
                + " now() + interval '90 days', 'x', 'EC', '\\x00', now() - interval '8 days')");
        exec("INSERT INTO certificate_name SELECT c.id, d.id FROM certificate c JOIN domain d ON d.identifier = ANY(c.names)");
        Map<String, List<Instant>> bySet = ledger.certificatesBySet(List.of(id("a.shop.example")), NOW,
                Duration.ofDays(7));
        assertThat(bySet).containsOnlyKeys(Budget.setKey(set));
        assertThat(bySet.get(Budget.setKey(set))).singleElement()
                .satisfies(t -> assertThat(t).isBetween(NOW.minus(Duration.ofDays(2)).minusSeconds(60), NOW));
    }

    @Test
    void failedAuthorizationsAreCountedPerNameInsideTheHourAndTheirRunEndsWithAValidAuthorization() throws Exception {
        long a = id("a.shop.example");
        long b = id("www.other.org");
        Instant t0 = NOW.minus(Duration.ofMinutes(90));
        assertThat(limits.recordFailedAuthorizations(CaEnvironment.PRODUCTION, account, Optional.empty(),
                Map.of(a, "a.shop.example"), "connection refused", t0)).containsEntry(a, 1);
        limits.recordFailedAuthorizations(CaEnvironment.PRODUCTION, account, Optional.empty(),
                Map.of(a, "a.shop.example", b, "www.other.org"), "connection refused", NOW.minus(Duration.ofMinutes(20)));
        Map<Long, Integer> third = limits.recordFailedAuthorizations(CaEnvironment.PRODUCTION, account,
                Optional.empty(), Map.of(a, "a.shop.example"), "dns", NOW.minus(Duration.ofMinutes(5)));
        assertThat(third).containsEntry(a, 3);

        Map<String, List<Instant>> failed = ledger.failedAuthorizations(CaEnvironment.PRODUCTION, account,
                List.of("a.shop.example", "www.other.org", "ab.shop.example"), NOW, Duration.ofHours(1));
        assertThat(failed.get("a.shop.example")).hasSize(2);
        assertThat(failed.get("www.other.org")).hasSize(1);
        assertThat(failed).doesNotContainKey("ab.shop.example");
        assertThat(ledger.failedAuthorizations(CaEnvironment.STAGING, account, List.of("a.shop.example"), NOW,
                Duration.ofHours(1))).isEmpty();
        assertThat(limits.streaks(List.of("a.shop.example", "www.other.org")))
                .containsExactlyInAnyOrderEntriesOf(Map.of("a.shop.example", 3, "www.other.org", 1));
        assertThat(count("SELECT failed_authorizations_in_a_row FROM v_domain_status WHERE name = 'a.shop.example'"))
                .isEqualTo(3);

        new CertificateStore(db.store, new SecretBox(key())).recordValidation(a, CaEnvironment.PRODUCTION, account, NOW,
                "https://ca.test/authz/1", Optional.of(NOW.plus(Duration.ofDays(30))));
        assertThat(limits.streaks(List.of("a.shop.example", "www.other.org"))).containsOnlyKeys("www.other.org");
    }

    @Test
    void aWaitForARegisteredDomainHoldsItsQueuedNamesAndKeepsTheLaterTime() throws SQLException {
        long inBatch = batches.create(new BatchTransition.NewBatch(CaEnvironment.PRODUCTION, Optional.empty(),
                Optional.empty(), Optional.empty(), List.of(id("ab.shop.example")), List.of(), Optional.empty(), 0));
        exec("UPDATE domain SET state = 'quarantined', reason_code = 'CAA_FORBIDS', next_attempt_at = now()"
                + " WHERE identifier = 'a-b.shop.example'");
        Instant until = NOW.plus(Duration.ofHours(30));
        int held = limits.recordWait(new CaLimitWait(CaEnvironment.PRODUCTION, CaLimit.CERTIFICATES_PER_DOMAIN,
                CaLimit.Scope.REGISTERED_DOMAIN, "shop.example", until, "too many certificates (50)"),
                Optional.of(account), Optional.of(inBatch));
        assertThat(held).as("the pending name only: the batched one is the stepper's, the quarantined keeps its reason")
                .isEqualTo(1);
        assertThat(count("SELECT count(*) FROM domain WHERE identifier = 'a.shop.example' AND state = 'held'"
                + " AND reason_code = 'RATE_LIMITED_CERTIFICATES_PER_DOMAIN' AND next_attempt_at = '" + until + "'"))
                .isEqualTo(1);
        // an earlier time does not shorten the wait; a later one extends it
        limits.recordWait(new CaLimitWait(CaEnvironment.PRODUCTION, CaLimit.CERTIFICATES_PER_DOMAIN,
                CaLimit.Scope.REGISTERED_DOMAIN, "shop.example", NOW.plus(Duration.ofHours(1)), "again"),
                Optional.of(account), Optional.empty());
        assertThat(limits.activeWaits(NOW)).singleElement().satisfies(w -> {
            assertThat(w.until()).isEqualTo(until);
            assertThat(w.scope()).isEqualTo(CaLimit.Scope.REGISTERED_DOMAIN);
        });
        assertThat(count("SELECT count(*) FROM v_limit_waits WHERE scope = 'registered_domain'"
                + " AND subject = 'shop.example' AND ca_limit = 'certificates_per_domain'")).isEqualTo(1);
        assertThat(limits.activeWaits(until)).isEmpty();
        assertThat(limits.deleteWaitsEndedBefore(until.plusSeconds(1))).isEqualTo(1);
    }

    @Test
    void anOperatorsReleaseRequeuesStoppedNamesAndStartsTheirCountAgain() throws SQLException {
        long a = id("a.shop.example");
        limits.recordFailedAuthorizations(CaEnvironment.PRODUCTION, account, Optional.empty(),
                Map.of(a, "a.shop.example"), "x", NOW);
        limits.stop(Map.of(a, new String[]{"PAUSE_GUARD", "10 in a row"}, id("www.other.org"),
                new String[]{"CA_PAUSED", "unpause at https://portal.test/"}));
        assertThat(count("SELECT count(*) FROM domain WHERE state = 'quarantined' AND next_attempt_at IS NULL"))
                .isEqualTo(2);

        List<LimitStore.Released> released = limits.release(List.of(), Optional.of("PAUSE_GUARD"));
        assertThat(released).containsExactly(new LimitStore.Released("a.shop.example", "PAUSE_GUARD"));
        assertThat(count("SELECT count(*) FROM domain WHERE identifier = 'a.shop.example' AND state = 'pending'"
                + " AND reason_code IS NULL AND attempts = 0")).isEqualTo(1);
        assertThat(limits.streaks(List.of("a.shop.example"))).isEmpty();
        assertThat(limits.release(List.of("www.other.org", "ab.shop.example"), Optional.empty()))
                .extracting(LimitStore.Released::identifier).containsExactly("www.other.org");
    }

    @Test
    void exemptNewOrdersSpendNoWindowAndHeldMembersLeaveTheBatchWhichIsAbandonedWhenEmpty() throws SQLException {
        long batch = batches.create(new BatchTransition.NewBatch(CaEnvironment.PRODUCTION, Optional.empty(),
                Optional.empty(), Optional.empty(), List.of(id("a.shop.example"), id("www.other.org")), List.of(),
                Optional.empty(), 0));
        var certificates = new CertificateStore(db.store, new SecretBox(key()));
        certificates.recordNewOrder(CaEnvironment.PRODUCTION, account, batch, List.of("a.shop.example"),
                Optional.of("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"), true);
        certificates.recordNewOrder(CaEnvironment.PRODUCTION, account, batch, List.of("a.shop.example"),
                Optional.empty(), false);
        assertThat(ledger.newOrderTimes(CaEnvironment.PRODUCTION, account, NOW.plusSeconds(5), Duration.ofHours(3)))
                .hasSize(1);

        var wait = new BatchTransition.Hold(new BatchTransition.Reason("BUDGET_FAILED_AUTHORIZATIONS", "5 in the hour"),
                DomainState.HELD, Optional.of(NOW.plus(Duration.ofMinutes(40))));
        assertThat(batches.holdMembers(batch, Map.of(id("a.shop.example"), wait))).isEqualTo(1);
        assertThat(batches.load(batch).identifiers()).containsExactly("www.other.org");
        assertThat(count("SELECT count(*) FROM domain WHERE identifier = 'a.shop.example' AND state = 'held'"
                + " AND reason_code = 'BUDGET_FAILED_AUTHORIZATIONS'")).isEqualTo(1);
        assertThat(batches.holdMembers(batch, Map.of(id("www.other.org"), wait))).isZero();
        assertThat(batches.load(batch).state()).isEqualTo(BatchState.ABANDONED);
        assertThat(count("SELECT count(*) FROM batch WHERE error_type = 'BUDGET_FAILED_AUTHORIZATIONS'")).isEqualTo(1);
    }

    @Test
    void anOrderedBatchAndItsLedgerEntryAreWrittenTogether() throws SQLException {
        long batch = batches.create(new BatchTransition.NewBatch(CaEnvironment.PRODUCTION, Optional.empty(),
                Optional.empty(), Optional.empty(), List.of(id("a.shop.example")), List.of(), Optional.empty(), 0));
        batches.markOrdered(batch, account, "https://ca.test/order/1", CaEnvironment.PRODUCTION,
                List.of("a.shop.example"), Optional.empty(), false);
        assertThat(batches.load(batch).state()).isEqualTo(BatchState.ORDERED);
        assertThat(count("SELECT count(*) FROM ca_event WHERE request = 'NEW_ORDER' AND outcome = 'ok' AND batch_id = "
                + batch + " AND identifiers = '{a.shop.example}' AND NOT limits_exempt")).isEqualTo(1);
        // an order that cannot be recorded (no such account) leaves neither the URL nor a ledger row
        long other = batches.create(new BatchTransition.NewBatch(CaEnvironment.PRODUCTION, Optional.empty(),
                Optional.empty(), Optional.empty(), List.of(id("www.other.org")), List.of(), Optional.empty(), 0));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> batches.markOrdered(other, 999_999,
                "https://ca.test/order/2", CaEnvironment.PRODUCTION, List.of("www.other.org"), Optional.empty(), false));
        assertThat(batches.load(other).state()).isEqualTo(BatchState.PLANNED);
        assertThat(batches.load(other).orderUrl()).isEmpty();
        assertThat(count("SELECT count(*) FROM ca_event WHERE batch_id = " + other)).isZero();
    }

    @Test
    void aNameIsBlamedForUnverifiedValidationFailuresOnlyAfterThreeRetriesInARow() throws SQLException {
        long name = id("a.shop.example");
        exec("UPDATE domain SET reason_code = '" + BatchStore.RETRIED + "' WHERE id = " + name);
        for (int i = 1; i <= 3; i++) {
            assertThat(batches.retriedBefore(List.of(name), 3)).as("after %d retries", i - 1).isEmpty();
            long batch = batches.create(new BatchTransition.NewBatch(CaEnvironment.STAGING, Optional.empty(),
                    Optional.empty(), Optional.empty(), List.of(name), List.of(), Optional.empty(), 0));
            exec("UPDATE batch_member SET active = false, outcome = '" + BatchStore.RETRIED + "' WHERE batch_id = " + batch);
        }
        assertThat(batches.retriedBefore(List.of(name), 3)).containsExactly(name);
        // a validation since then starts the count again
        exec("INSERT INTO validation (domain_id, environment, account_id, validated_at, authz_url)"
                + " VALUES (" + name + ", 'staging', " + account + ", now() + interval '1 second', 'https://ca.test/authz/1')");
        assertThat(batches.retriedBefore(List.of(name), 3)).isEmpty();
    }

    @Test
    void aStoppedNameInATransitionIsQuarantinedWithoutANextAttempt() throws SQLException {
        long batch = batches.create(new BatchTransition.NewBatch(CaEnvironment.STAGING, Optional.empty(),
                Optional.empty(), Optional.empty(), List.of(id("a.shop.example"), id("www.other.org")), List.of(),
                Optional.empty(), 0));
        var stop = new BatchTransition.Hold(new BatchTransition.Reason("PAUSE_GUARD", "10 in a row"),
                DomainState.QUARANTINED, Optional.empty());
        batches.apply(new BatchTransition(batch, BatchState.FAILED, Optional.of("BLAMED"), Optional.empty(), Map.of(),
                BatchTransition.Backoff.NONE, Map.of(), List.of(), Optional.empty(), Optional.empty(),
                Map.of(id("a.shop.example"), stop), Map.of()));
        assertThat(count("SELECT count(*) FROM domain WHERE identifier = 'a.shop.example' AND state = 'quarantined'"
                + " AND reason_code = 'PAUSE_GUARD' AND next_attempt_at IS NULL")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM domain WHERE identifier = 'www.other.org' AND state = 'pending'"))
                .isEqualTo(1);
    }

    @Test
    void aCertificateInsideItsAriWindowIsTheOneARenewalReplacesAndNotOnceAnotherOrderClaimedIt() throws SQLException {
        var certificates = new CertificateStore(db.store, new SecretBox(key()));
        exec("INSERT INTO certificate (environment, names, serial, not_before, not_after, chain_pem, key_algorithm,"
                + " key_ciphertext, ari_window_start, ari_window_end, ari_cert_id) VALUES"
                + " ('production', ARRAY['a.shop.example', 'www.other.org'], '01', now(), now() + interval '90 days',"
                + "  'x', 'EC', '\\x00', NULL, NULL, NULL),"
                + " ('production', ARRAY['a.shop.example'], '02', now(), now() + interval '90 days', 'x', 'EC', '\\x00',"
                + "  now() - interval '1 hour', now() + interval '1 day', 'aki.02')");
        exec("INSERT INTO certificate_name SELECT c.id, d.id FROM certificate c JOIN domain d ON d.identifier = ANY(c.names)");
        long a = id("a.shop.example");
        long w = id("www.other.org");
        long batch = batches.create(new BatchTransition.NewBatch(CaEnvironment.PRODUCTION, Optional.empty(),
                Optional.empty(), Optional.empty(), List.of(a, w), List.of(), Optional.empty(), 0));
        var pick = certificates.replaceable(batch, List.of(a, w), NOW).orElseThrow();
        assertThat(pick.ariCertId()).as("in-window beats sharing more names").hasValue("aki.02");
        assertThat(pick.inWindow(NOW)).isTrue();
        assertThat(pick.inWindow(NOW.plus(Duration.ofDays(2)))).isFalse();
        assertThat(ledger.replaceableWindows(List.of(a, w), NOW)).containsOnlyKeys(a);

        long other = batches.create(new BatchTransition.NewBatch(CaEnvironment.PRODUCTION, Optional.empty(),
                Optional.empty(), Optional.empty(), List.of(id("ab.shop.example")), List.of(), Optional.empty(), 0));
        batches.setReplaces(other, pick.id());
        exec("UPDATE batch SET state = 'ordered' WHERE id = " + other);
        assertThat(certificates.replaceable(batch, List.of(a, w), NOW).orElseThrow().ariCertId()).isEmpty();
        assertThat(ledger.replaceableWindows(List.of(a, w), NOW)).isEmpty();
        assertThat(batches.replaces(other)).isEqualTo(new BatchStore.Replaces(Optional.of(pick.id()), false));
        batches.refuseReplaces(other, "alreadyReplaced");
        assertThat(batches.replaces(other)).isEqualTo(new BatchStore.Replaces(Optional.empty(), true));
    }

    private static byte[] key() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return k;
    }

    private long count(String sql) throws SQLException {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void exec(String sql) throws SQLException {
        try (Connection c = db.database.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
