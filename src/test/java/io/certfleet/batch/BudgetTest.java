package io.certfleet.batch;

import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class BudgetTest {
    private static final Instant T = Instant.parse("2026-01-01T05:00:00Z");
    private static final Duration WEEK = Duration.ofDays(7);

    private static PlannedBatch batch(long... ids) {
        return new PlannedBatch(Optional.empty(), Arrays.stream(ids)
                .mapToObj(i -> new Candidate(i, "n" + i + ".example", Optional.empty())).toList());
    }

    private static Budget.Order staged(PlannedBatch b) {
        return new Budget.Order(b, true, false);
    }

    /** A 3-hour window of 10 orders with room for {@code left} more; its orders were placed an hour ago. */
    private static Budget.OrderWindow room(long left) {
        List<Instant> placed = new ArrayList<>();
        for (long i = 0; i < 10 - left; i++) {
            placed.add(T.minus(Duration.ofHours(1)));
        }
        return Budget.OrderWindow.of(placed, 10, Duration.ofHours(3), "staging");
    }

    /** {@code n} issue times inside the window, the oldest {@code age} before T, one hour apart. */
    private static List<Instant> issued(int n, Duration age) {
        List<Instant> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(T.minus(age).plus(Duration.ofHours(i)));
        }
        return out;
    }

    private static Budget.Ledger ledger(long orders, Map<String, List<Instant>> byDomain, long perDomain,
                                        Map<String, List<Instant>> bySet, long perSet) {
        return new Budget.Ledger(room(orders), room(orders), byDomain, perDomain, bySet, perSet, T);
    }

    @Test
    void holdsExactlyTheNamesWhoseRegisteredDomainIsUsedUpUntilItsOldestCertificateLeavesTheWindow() {
        var rd = Map.of(1L, "a.example", 2L, "a.example", 3L, "b.example", 4L, "c.example");
        var ledger = ledger(10, Map.of("a.example", issued(50, Duration.ofDays(3)), "b.example",
                issued(49, Duration.ofDays(3))), 50, Map.of(), 5);
        Budget.Allocation a = Budget.allocate(List.of(staged(batch(1, 2, 3)), staged(batch(4))), rd, ledger);
        assertThat(a.go()).hasSize(2);
        assertThat(a.go().get(0).members()).extracting(Candidate::domainId).containsExactly(3L);
        assertThat(a.held()).extracting(Budget.Held::domainId).containsExactly(1L, 2L);
        assertThat(a.held()).allSatisfy(h -> {
            assertThat(h.reason()).isEqualTo("BUDGET_CERTIFICATES_PER_DOMAIN");
            assertThat(h.until()).isEqualTo(T.minus(Duration.ofDays(3)).plus(WEEK));
            assertThat(h.detail()).contains("a.example");
        });
    }

    @Test
    void aRegisteredDomainCountsOncePerCertificateAndTheSecondOrderOverTheLimitWaitsAWeekFromNow() {
        var rd = Map.of(1L, "b.example", 2L, "b.example", 3L, "b.example");
        var ledger = ledger(10, Map.of("b.example", issued(49, Duration.ofDays(3))), 50, Map.of(), 5);
        Budget.Allocation a = Budget.allocate(List.of(staged(batch(1, 2)), staged(batch(3))), rd, ledger);
        assertThat(a.go()).hasSize(1);
        assertThat(a.held()).extracting(Budget.Held::domainId, Budget.Held::until)
                .containsExactly(Tuple.tuple(3L, T.minus(Duration.ofDays(3)).plus(WEEK)));
    }

    @Test
    void ordersBeyondTheNewOrderWindowWaitForItsOldestOrderToLeave() {
        Budget.Allocation a = Budget.allocate(List.of(staged(batch(1)), staged(batch(2, 3))), Map.of(),
                ledger(1, Map.of(), 50, Map.of(), 5));
        assertThat(a.go()).hasSize(1);
        assertThat(a.held()).extracting(Budget.Held::domainId, Budget.Held::reason, Budget.Held::until).containsExactly(
                Tuple.tuple(2L, "BUDGET_NEW_ORDERS", T.plus(Duration.ofHours(2))),
                Tuple.tuple(3L, "BUDGET_NEW_ORDERS", T.plus(Duration.ofHours(2))));
        assertThat(a.use()).isEqualTo(new Budget.Use(1, 1, 0));
    }

    /** Regression: with no order in the window yet, names over it were held "until now" and went again at once. */
    @Test
    void whenThisRunFillsAnEmptyWindowTheRestWaitsThreeHoursFromNow() {
        var empty = Budget.OrderWindow.of(List.of(), 1, Duration.ofHours(3), "staging");
        var ledger = new Budget.Ledger(empty, room(5), Map.of(), 50, Map.of(), 5, T);
        Budget.Allocation a = Budget.allocate(List.of(staged(batch(1)), staged(batch(2))), Map.of(), ledger);
        assertThat(a.held()).extracting(Budget.Held::domainId, Budget.Held::until)
                .containsExactly(Tuple.tuple(2L, T.plus(Duration.ofHours(3))));
    }

    @Test
    void aFreshOrderSpendsNoStagingOrderAndAStagingWindowThatIsFullHoldsOnlyRehearsedOrders() {
        var ledger = new Budget.Ledger(room(0), room(5), Map.of(), 50, Map.of(), 5, T);
        Budget.Allocation a = Budget.allocate(List.of(new Budget.Order(batch(1), false, false), staged(batch(2))),
                Map.of(), ledger);
        assertThat(a.goIndex()).containsExactly(0);
        assertThat(a.held()).extracting(Budget.Held::domainId).containsExactly(2L);
        assertThat(a.use()).isEqualTo(new Budget.Use(0, 1, 0));
    }

    @Test
    void anExactSetAtItsLimitWaitsAsAWholeUntilItsOldestCertificateLeavesTheWindow() {
        String key = Budget.setKey(List.of("n2.example", "n1.example"));
        assertThat(key).isEqualTo("n1.example,n2.example");
        var ledger = ledger(10, Map.of(), 50, Map.of(key, issued(5, Duration.ofDays(6))), 5);
        Budget.Allocation a = Budget.allocate(List.of(staged(batch(1, 2)), staged(batch(3))), Map.of(), ledger);
        assertThat(a.go()).extracting(PlannedBatch::identifiers).containsExactly(List.of("n3.example"));
        assertThat(a.held()).extracting(Budget.Held::domainId, Budget.Held::reason, Budget.Held::until).containsExactly(
                Tuple.tuple(1L, "BUDGET_EXACT_SET", T.minus(Duration.ofDays(6)).plus(WEEK)),
                Tuple.tuple(2L, "BUDGET_EXACT_SET", T.minus(Duration.ofDays(6)).plus(WEEK)));
    }

    @Test
    void aSetWithRoomGoesAndCountsForLaterOrdersOfTheSameSetInTheRun() {
        String key = Budget.setKey(List.of("n1.example"));
        var ledger = ledger(10, Map.of(), 50, Map.of(key, issued(4, Duration.ofDays(1))), 5);
        Budget.Allocation a = Budget.allocate(List.of(staged(batch(1)), staged(batch(1))), Map.of(), ledger);
        assertThat(a.goIndex()).containsExactly(0);
        assertThat(a.held()).extracting(Budget.Held::reason).containsExactly("BUDGET_EXACT_SET");
    }

    @Test
    void theExactSetIsTheSetLeftAfterNamesOfAUsedUpRegisteredDomainWereTakenOut() {
        var rd = Map.of(1L, "full.example");
        String rest = Budget.setKey(List.of("n2.example"));
        var ledger = ledger(10, Map.of("full.example", issued(1, Duration.ofDays(1))), 1,
                Map.of(rest, issued(1, Duration.ofDays(1))), 1);
        Budget.Allocation a = Budget.allocate(List.of(staged(batch(1, 2))), rd, ledger);
        assertThat(a.go()).isEmpty();
        assertThat(a.held()).extracting(Budget.Held::domainId, Budget.Held::reason).containsExactly(
                Tuple.tuple(1L, "BUDGET_CERTIFICATES_PER_DOMAIN"), Tuple.tuple(2L, "BUDGET_EXACT_SET"));
    }

    @Test
    void anAriRenewalInsideItsWindowIsCheckedAgainstNoLimitAndSpendsNoProductionOrder() {
        var rd = Map.of(1L, "full.example", 2L, "full.example");
        String key = Budget.setKey(List.of("n1.example", "n2.example"));
        var ledger = new Budget.Ledger(room(5), room(0), Map.of("full.example", issued(50, Duration.ofDays(1))), 50,
                Map.of(key, issued(5, Duration.ofDays(1))), 5, T);
        Budget.Allocation a = Budget.allocate(List.of(new Budget.Order(batch(1, 2), true, true)), rd, ledger);
        assertThat(a.go()).hasSize(1);
        assertThat(a.held()).isEmpty();
        assertThat(a.use()).isEqualTo(new Budget.Use(1, 0, 1));
    }

    @Test
    void anAriRenewalStillSpendsItsRegisteredDomainsBudgetForTheOrdersAfterIt() {
        var rd = Map.of(1L, "d.example", 2L, "d.example");
        var ledger = ledger(10, Map.of("d.example", issued(49, Duration.ofDays(1))), 50, Map.of(), 5);
        Budget.Allocation a = Budget.allocate(List.of(new Budget.Order(batch(1), true, true), staged(batch(2))), rd,
                ledger);
        assertThat(a.goIndex()).containsExactly(0);
        assertThat(a.held()).extracting(Budget.Held::reason).containsExactly("BUDGET_CERTIFICATES_PER_DOMAIN");
    }

    @Test
    void whileTheCasNewOrderWaitLastsTheOrdersWaitWithItsReasonAndTime() {
        Instant until = T.plus(Duration.ofMinutes(40));
        var ledger = new Budget.Ledger(room(5), Budget.OrderWindow.rateLimited(until, "too many new orders"),
                Map.of(), 50, Map.of(), 5, T);
        Budget.Allocation a = Budget.allocate(List.of(staged(batch(1))), Map.of(), ledger);
        assertThat(a.held()).extracting(Budget.Held::reason, Budget.Held::until)
                .containsExactly(Tuple.tuple("RATE_LIMITED_NEW_ORDERS", until));
    }

    @Test
    void anOrderWindowCountsOnlyTheOrdersInsideItAndFreesWhenTheOldestLeaves() {
        Duration three = Duration.ofHours(3);
        var w = Budget.OrderWindow.of(List.of(T.minus(Duration.ofHours(4)), T.minus(Duration.ofHours(2)),
                T.minus(Duration.ofHours(1))), 2, three, "production");
        assertThat(w.left(T, 0)).isZero();
        assertThat(w.freeAt(T, 0)).isEqualTo(T.minus(Duration.ofHours(2)).plus(three));
        assertThat(w.detail()).contains("production", "2 new orders per 3 hours");
        var blocked = Budget.OrderWindow.rateLimited(T.plusSeconds(60), "429");
        assertThat(blocked.left(T, 0)).isZero();
        assertThat(blocked.left(T.plusSeconds(61), 0)).isEqualTo(1);
    }
}
