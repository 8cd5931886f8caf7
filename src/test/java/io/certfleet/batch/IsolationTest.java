package io.certfleet.batch;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class IsolationTest {
    private static List<String> names(int n) {
        return IntStream.range(0, n).mapToObj(i -> String.format("n%03d.example", i)).toList();
    }

    @Test
    void blamedNamesAreQuarantinedAndTheRestOrderedAgainAsOneBatch() {
        Isolation i = Isolation.plan(names(5), Set.of("n002.example", "stranger.example"));
        assertThat(i.quarantine()).containsExactly("n002.example");
        assertThat(i.next()).containsExactly(List.of("n000.example", "n001.example", "n003.example", "n004.example"));
        assertThat(i.bisected()).isFalse();
    }

    @Test
    void aFailureThatNamesNobodyIsBisectedIntoStableHalves() {
        Isolation i = Isolation.plan(List.of("c.example", "a.example", "b.example"), Set.of());
        assertThat(i.bisected()).isTrue();
        assertThat(i.next()).containsExactly(List.of("a.example", "b.example"), List.of("c.example"));
        assertThat(i.quarantine()).isEmpty();
    }

    @Test
    void aSingleNameThatFailsForNoNamedReasonIsTheCulprit() {
        Isolation i = Isolation.plan(List.of("a.example"), Set.of());
        assertThat(i.quarantine()).containsExactly("a.example");
        assertThat(i.next()).isEmpty();
    }

    /** Simulates bisection on 100 names with k hidden bad names and checks the order budget of the issue. */
    @Test
    void bisectionIsolatesKBadNamesWithinKTimesLog2NOrders() {
        for (int k : new int[]{1, 2, 5}) {
            List<String> all = names(100);
            Set<String> bad = Set.copyOf(all.subList(0, 0).isEmpty() ? pick(all, k) : List.of());
            int orders = 0;
            List<List<String>> queue = new ArrayList<>(List.of(all));
            Set<String> quarantined = new java.util.TreeSet<>();
            while (!queue.isEmpty()) {
                List<String> batch = queue.remove(0);
                orders++;
                if (batch.stream().noneMatch(bad::contains)) {
                    continue; // cleared
                }
                Isolation i = Isolation.plan(batch, Set.of());
                quarantined.addAll(i.quarantine());
                queue.addAll(i.next());
            }
            assertThat(quarantined).as("k=%d", k).isEqualTo(bad);
            assertThat(orders - 1).as("extra orders for k=%d", k)
                    .isLessThanOrEqualTo(2 * k * Isolation.bisectionDepth(100));
        }
        assertThat(Isolation.bisectionDepth(100)).isEqualTo(7);
        assertThat(Isolation.bisectionDepth(1)).isZero();
    }

    private static List<String> pick(List<String> all, int k) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            out.add(all.get((i * 37 + 11) % all.size()));
        }
        return out;
    }
}
