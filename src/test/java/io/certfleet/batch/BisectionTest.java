package io.certfleet.batch;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

class BisectionTest {

    /** Runs searches like the pipeline does, against a CA where a set fails iff it holds a bad id. */
    private static final class Sim {
        final Set<Long> bad;
        int orders;
        final Set<Long> quarantined = new TreeSet<>();
        final List<List<Long>> promoted = new ArrayList<>();

        Sim(Set<Long> bad) {
            this.bad = bad;
        }

        boolean order(List<Long> set) {
            orders++;
            return set.stream().noneMatch(bad::contains);
        }

        void rehearse(List<Long> batch, List<Long> knownClean) {
            if (batch.isEmpty()) {
                return;
            }
            if (order(batch)) {
                promoted.add(batch);
                return;
            }
            if (batch.size() == 1) {
                quarantined.add(batch.get(0));
                return;
            }
            Bisection.Next next = Bisection.start(batch, knownClean);
            while (next instanceof Bisection.Probe p) {
                next = order(p.members()) ? Bisection.probeCleared(p.state(), p.suspectsTested())
                        : Bisection.probeFailed(p.state(), p.suspectsTested());
            }
            Bisection.Found f = (Bisection.Found) next;
            assertThat(bad).as("a clean name was blamed").contains(f.culprit());
            quarantined.add(f.culprit());
            if (f.restCleared()) {
                promoted.add(f.rest());
            } else {
                rehearse(f.rest(), f.verified());
            }
        }
    }

    private static List<Long> ids(int n) {
        return LongStream.rangeClosed(1, n).boxed().toList();
    }

    @Test
    void findsEveryCulpritNeverBlamesACleanNameAndEndsWithOneCertificate() {
        for (int n : new int[]{2, 3, 7, 100}) {
            for (long b1 = 1; b1 <= n; b1 += Math.max(1, n / 9)) {
                Sim sim = new Sim(Set.of(b1));
                sim.rehearse(ids(n), List.of());
                assertThat(sim.quarantined).as("n=%d bad=%d", n, b1).containsExactly(b1);
                assertThat(sim.promoted).as("n=%d bad=%d", n, b1).hasSize(1);
                assertThat(sim.promoted.get(0)).hasSize(n - 1).doesNotContain(b1);
                // one failed order, ⌈log2 n⌉ probes, at most one re-rehearsal
                assertThat(sim.orders - 1).as("extra orders n=%d bad=%d", n, b1)
                        .isLessThanOrEqualTo(Bisection.depth(n) + 1);
            }
        }
    }

    @Test
    void severalCulpritsCostAboutKTimesLog2NOrders() {
        Set<Long> bad = Set.of(5L, 42L, 77L);
        Sim sim = new Sim(bad);
        sim.rehearse(ids(100), List.of());
        assertThat(sim.quarantined).isEqualTo(bad);
        assertThat(sim.promoted.stream().mapToInt(List::size).sum()).isEqualTo(97);
        assertThat(sim.orders - 1).isLessThanOrEqualTo(3 * (Bisection.depth(100) + 1));
    }

    @Test
    void depthIsTheCeilingOfLog2() {
        assertThat(Bisection.depth(1)).isZero();
        assertThat(Bisection.depth(2)).isEqualTo(1);
        assertThat(Bisection.depth(3)).isEqualTo(2);
        assertThat(Bisection.depth(64)).isEqualTo(6);
        assertThat(Bisection.depth(65)).isEqualTo(7);
        assertThat(Bisection.depth(100)).isEqualTo(7);
    }

    /** The bound is tight: some culprit position makes a search spend exactly depth(n) probes plus a re-rehearsal. */
    @Test
    void theWorstCulpritCostsDepthPlusOneOrders() {
        for (int n : new int[]{2, 3, 7, 100}) {
            int worst = 0;
            for (long b1 = 1; b1 <= n; b1++) {
                Sim sim = new Sim(Set.of(b1));
                sim.rehearse(ids(n), List.of());
                worst = Math.max(worst, sim.orders - 1);
            }
            assertThat(worst).as("n=%d", n).isEqualTo(Bisection.depth(n) + 1);
        }
    }

    @Test
    void aVerifiedHintNarrowsTheNextSearchToTheUntestedNames() {
        Bisection.Next n = Bisection.start(ids(10), List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L));
        assertThat(n).isInstanceOfSatisfying(Bisection.Probe.class, p -> {
            assertThat(p.suspectsTested()).containsExactly(9L);
            assertThat(p.members()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
        });
    }
}
