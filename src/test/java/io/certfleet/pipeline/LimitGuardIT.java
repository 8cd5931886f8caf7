package io.certfleet.pipeline;

import io.certfleet.model.Batch;
import io.certfleet.model.BatchTransition;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaLimit;
import io.certfleet.model.CaLimitWait;
import io.certfleet.model.DomainName;
import io.certfleet.model.DomainState;
import io.certfleet.model.NewDomain;
import io.certfleet.store.BatchStore;
import io.certfleet.store.DomainStore;
import io.certfleet.store.LedgerStore;
import io.certfleet.store.LimitStore;
import io.certfleet.testsupport.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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

/**
 * The check before every order ({@link LimitGuard#beforeOrder}) on the real database, for the batches admission
 * never sees: re-rehearsals after a failure, bisection probes and promotions, with low limits.
 */
class LimitGuardIT {
    private final TestDatabase db = TestDatabase.get();
    private final BatchStore batches = new BatchStore(db.store);
    private final LimitStore limits = new LimitStore(db.store);
    private final Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    private LimitGuard guard;
    private long account;

    @BeforeEach
    void setUp() throws Exception {
        db.clean();
        var low = new PipelineSettings.Limits(10, 10, 50, 1, 2, 2, 10);
        PipelineSettings d = PipelineSettings.defaults();
        PipelineSettings settings = new PipelineSettings(d.maxNames(), d.grouping(), d.freshFor(), d.holdAtRisk(),
                d.parallelBatches(), d.pollInterval(), d.maxAttempts(), d.maxProductionReorders(),
                d.quarantineBackoff(), d.quarantineBackoffMax(), d.caBackoff(), d.authzReuseMargin(), low, d.orderWindow());
        guard = new LimitGuard(new LedgerStore(db.store), limits, settings);
        new DomainStore(db.store).insertNew(List.of(
                new NewDomain(DomainName.parse("a.shop.example"), "a.shop.example", Optional.empty()),
                new NewDomain(DomainName.parse("b.shop.example"), "b.shop.example", Optional.empty()),
                new NewDomain(DomainName.parse("c.shop.example"), "c.shop.example", Optional.empty())));
        account = count("INSERT INTO acme_account (environment, directory_url, account_url, key_ciphertext)"
                + " VALUES ('staging', 'https://ca.test/dir', 'https://ca.test/acct/1', '\\x00') RETURNING id");
    }

    private CaSession session(CaEnvironment env) {
        return new CaSession(env, account, "https://ca.test/acct/1", null);
    }

    private Batch batch(CaEnvironment env, List<Long> probeIds) {
        return batches.load(batches.create(new BatchTransition.NewBatch(env, Optional.empty(), Optional.empty(),
                Optional.empty(), List.of(1L, 2L, 3L), probeIds, Optional.empty(), 1)));
    }

    /** Frees the batch's names (a name is in at most one open batch). */
    private void close(Batch b) {
        try {
            exec("UPDATE batch_member SET active = false WHERE batch_id = " + b.id());
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private void failTwice(String identifier, long domainId, Instant first) {
        limits.recordFailedAuthorizations(CaEnvironment.STAGING, account, Optional.empty(), Map.of(domainId, identifier),
                "connection refused", first);
        limits.recordFailedAuthorizations(CaEnvironment.STAGING, account, Optional.empty(), Map.of(domainId, identifier),
                "connection refused", first.plus(Duration.ofMinutes(5)));
    }

    @Test
    void aReRehearsalTakesOutTheNameAtItsFailedAuthorizationLimitAndKeepsTheRest() {
        Instant first = now.minus(Duration.ofMinutes(30));
        failTwice("b.shop.example", 2, first);
        Batch b = batch(CaEnvironment.STAGING, List.of());
        LimitGuard.OrderCheck check = guard.beforeOrder(b, session(CaEnvironment.STAGING), false, now);
        assertThat(check).isInstanceOfSatisfying(LimitGuard.TakeOut.class, t -> {
            assertThat(t.holds()).containsOnlyKeys(2L);
            BatchTransition.Hold h = t.holds().get(2L);
            assertThat(h.reason().code()).isEqualTo("BUDGET_FAILED_AUTHORIZATIONS");
            assertThat(h.state()).isEqualTo(DomainState.HELD);
            assertThat(h.until()).hasValue(first.plus(Duration.ofHours(1)));
            assertThat(batches.holdMembers(b.id(), t.holds())).isEqualTo(2);
        });
        assertThat(guard.beforeOrder(batches.load(b.id()), session(CaEnvironment.STAGING), false, now))
                .isInstanceOf(LimitGuard.Go.class);
        close(b);
        // the production account's failures are its own
        assertThat(guard.beforeOrder(batch(CaEnvironment.PRODUCTION, List.of()), session(CaEnvironment.PRODUCTION),
                false, now)).isInstanceOf(LimitGuard.Go.class);
    }

    @Test
    void aBisectionProbeWaitsAsAWholeForItsNamesRatherThanShrink() {
        Instant first = now.minus(Duration.ofMinutes(20));
        failTwice("c.shop.example", 3, first);
        Batch probe = batch(CaEnvironment.STAGING, List.of(3L));
        assertThat(guard.beforeOrder(probe, session(CaEnvironment.STAGING), false, now))
                .isEqualTo(new LimitGuard.Wait(first.plus(Duration.ofHours(1)), "BUDGET_FAILED_AUTHORIZATIONS",
                        "2 authorizations of this name failed at staging within the last hour (the CA's limit); it is "
                                + "ordered again when the oldest leaves the hour"));
    }

    @Test
    void theCasWaitForAnAccountHoldsItsOrdersButNotAnAriRenewalInsideItsWindow() {
        Instant until = now.plus(Duration.ofMinutes(45));
        limits.recordWait(new CaLimitWait(CaEnvironment.PRODUCTION, CaLimit.NEW_ORDERS, CaLimit.Scope.ACCOUNT, "",
                until, "too many new orders (300)"), Optional.of(account), Optional.empty());
        Batch b = batch(CaEnvironment.PRODUCTION, List.of());
        assertThat(guard.beforeOrder(b, session(CaEnvironment.PRODUCTION), false, now)).isInstanceOfSatisfying(
                LimitGuard.Wait.class, w -> {
                    assertThat(w.until()).isEqualTo(until);
                    assertThat(w.reason()).isEqualTo("RATE_LIMITED_NEW_ORDERS");
                });
        assertThat(guard.beforeOrder(b, session(CaEnvironment.PRODUCTION), true, now)).isInstanceOf(LimitGuard.Go.class);
        close(b);
        assertThat(guard.beforeOrder(batch(CaEnvironment.STAGING, List.of()), session(CaEnvironment.STAGING), false,
                now)).as("staging's account is another").isInstanceOf(LimitGuard.Go.class);
    }

    @Test
    void aPromotionWhoseExactSetIsAtItsLimitIsTakenOutWhole() throws SQLException {
        exec("INSERT INTO certificate (environment, names, serial, not_before, not_after, chain_pem, key_algorithm,"
                + " key_ciphertext, created_at) VALUES ('production', ARRAY['c.shop.example', 'a.shop.example',"
                + " 'b.shop.example'], '01', now(), now() + interval '90 days', 'x', 'EC', '\\x00', now() - interval '1 day')");
        exec("INSERT INTO certificate_name SELECT c.id, d.id FROM certificate c JOIN domain d ON d.identifier = ANY(c.names)");
        Batch b = batch(CaEnvironment.PRODUCTION, List.of());
        assertThat(guard.beforeOrder(b, session(CaEnvironment.PRODUCTION), false, now)).isInstanceOfSatisfying(
                LimitGuard.TakeOut.class, t -> {
                    assertThat(t.holds()).containsOnlyKeys(1L, 2L, 3L);
                    assertThat(t.holds().values()).allSatisfy(h -> {
                        assertThat(h.reason().code()).isEqualTo("BUDGET_EXACT_SET");
                        assertThat(h.until().orElseThrow()).isBetween(now.plus(Duration.ofDays(6)).minusSeconds(60),
                                now.plus(Duration.ofDays(6)).plusSeconds(60));
                    });
                });
        assertThat(guard.beforeOrder(b, session(CaEnvironment.PRODUCTION), true, now)).isInstanceOf(LimitGuard.Go.class);
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
