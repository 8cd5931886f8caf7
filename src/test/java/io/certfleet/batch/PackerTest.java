package io.certfleet.batch;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PackerTest {
    private static long ids;

    private static List<Candidate> customer(String customer, int n) {
        List<Candidate> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new Candidate(++ids, String.format("n%03d.%s.example", i, customer), Optional.of(customer)));
        }
        return out;
    }

    @Test
    void neverExceedsTheLimitAndLosesNoName() {
        List<Candidate> all = new ArrayList<>();
        all.addAll(customer("a", 250));
        all.addAll(customer("b", 37));
        all.addAll(customer("c", 64));
        all.addAll(customer("d", 1));
        List<PlannedBatch> batches = new Packer(100, Packer.Grouping.KEEP_CUSTOMERS_TOGETHER).pack(all);
        assertThat(batches).allSatisfy(b -> assertThat(b.members()).hasSizeBetween(1, 100));
        assertThat(batches.stream().flatMap(b -> b.members().stream())).containsExactlyInAnyOrderElementsOf(all);
        assertThat(batches).hasSize(4); // 100, 100, 50+37+1 … first-fit decreasing keeps it to 4 orders
    }

    @Test
    void keepsACustomersNamesTogetherWhenTheyFit() {
        List<Candidate> all = new ArrayList<>();
        all.addAll(customer("a", 60));
        all.addAll(customer("b", 60));
        all.addAll(customer("c", 30));
        List<PlannedBatch> batches = new Packer(100, Packer.Grouping.KEEP_CUSTOMERS_TOGETHER).pack(all);
        for (String c : List.of("a", "b", "c")) {
            assertThat(batches.stream().filter(b -> b.members().stream()
                    .anyMatch(m -> m.customer().orElseThrow().equals(c)))).as(c).hasSize(1);
        }
    }

    @Test
    void oneCertificatePerCustomer() {
        List<Candidate> all = new ArrayList<>();
        all.addAll(customer("a", 3));
        all.addAll(customer("b", 2));
        List<PlannedBatch> batches = new Packer(100, Packer.Grouping.ONE_CERTIFICATE_PER_CUSTOMER).pack(all);
        assertThat(batches).extracting(PlannedBatch::customer).containsExactly(Optional.of("a"), Optional.of("b"));
    }

    @Test
    void sameCandidatesInAnyOrderGiveTheSameBatches() {
        List<Candidate> all = new ArrayList<>();
        all.addAll(customer("a", 150));
        all.addAll(customer("b", 70));
        all.add(new Candidate(++ids, "solo.example", Optional.empty()));
        Packer p = new Packer(100, Packer.Grouping.KEEP_CUSTOMERS_TOGETHER);
        List<PlannedBatch> first = p.pack(all);
        List<Candidate> shuffled = new ArrayList<>(all);
        Collections.shuffle(shuffled, new Random(7));
        assertThat(p.pack(shuffled)).isEqualTo(first);
    }

    @Test
    void rejectsANonsenseLimit() {
        assertThatThrownBy(() -> new Packer(0, Packer.Grouping.KEEP_CUSTOMERS_TOGETHER)).hasMessageContaining("maxNames");
    }
}
