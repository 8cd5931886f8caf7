package io.certfleet.batch;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class BudgetTest {
    private static final Instant T = Instant.parse("2026-01-01T05:00:00Z");

    private static PlannedBatch batch(long... ids) {
        return new PlannedBatch(Optional.empty(), java.util.Arrays.stream(ids)
                .mapToObj(i -> new Candidate(i, "n" + i + ".example", Optional.empty())).toList());
    }

    @Test
    void holdsExactlyTheNamesWhoseRegisteredDomainIsUsedUpAndLetsTheRestGo() {
        var rd = Map.of(1L, "a.example", 2L, "a.example", 3L, "b.example", 4L, "c.example");
        var ledger = new Budget.Ledger(10, T, Map.of("a.example", 50L, "b.example", 49L), Map.of("a.example", T), 50);
        Budget.Allocation a = Budget.allocate(List.of(batch(1, 2, 3), batch(4)), rd, ledger);
        assertThat(a.go()).hasSize(2);
        assertThat(a.go().get(0).members()).extracting(Candidate::domainId).containsExactly(3L);
        assertThat(a.held()).extracting(Budget.Held::domainId).containsExactly(1L, 2L);
        assertThat(a.held()).allSatisfy(h -> {
            assertThat(h.reason()).isEqualTo("BUDGET_CERTIFICATES_PER_DOMAIN");
            assertThat(h.until()).isEqualTo(T);
            assertThat(h.detail()).contains("a.example");
        });
    }

    @Test
    void aRegisteredDomainCountsOncePerCertificateAndTheSecondOrderOverTheLimitWaits() {
        var rd = Map.of(1L, "b.example", 2L, "b.example", 3L, "b.example");
        var ledger = new Budget.Ledger(10, T, Map.of("b.example", 49L), Map.of("b.example", T), 50);
        Budget.Allocation a = Budget.allocate(List.of(batch(1, 2), batch(3)), rd, ledger);
        assertThat(a.go()).hasSize(1);
        assertThat(a.held()).extracting(Budget.Held::domainId).containsExactly(3L);
    }

    @Test
    void ordersBeyondTheNewOrderWindowWaitForItToFree() {
        var ledger = new Budget.Ledger(1, T, Map.of(), Map.of(), 50);
        Budget.Allocation a = Budget.allocate(List.of(batch(1), batch(2, 3)), Map.of(), ledger);
        assertThat(a.go()).hasSize(1);
        assertThat(a.held()).extracting(Budget.Held::domainId, Budget.Held::reason).containsExactly(
                org.assertj.core.groups.Tuple.tuple(2L, "BUDGET_NEW_ORDERS"),
                org.assertj.core.groups.Tuple.tuple(3L, "BUDGET_NEW_ORDERS"));
    }
}
