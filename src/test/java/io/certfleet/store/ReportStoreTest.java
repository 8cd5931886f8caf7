package io.certfleet.store;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReportStoreTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private static List<Instant> every15Minutes(int n) {
        List<Instant> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(T0.plusSeconds(900L * i));
        }
        return out;
    }

    @Test
    void fewSamplesAreAllKept() {
        assertThat(ReportStore.thin(every15Minutes(10), 10)).isEqualTo(every15Minutes(10));
    }

    @Test
    void manySamplesAreThinnedToTheLastOfEachSliceKeepingTheNewest() {
        List<Instant> all = every15Minutes(8640); // 90 days
        List<Instant> kept = ReportStore.thin(all, 240);
        assertThat(kept).hasSize(240).isSorted().doesNotHaveDuplicates();
        assertThat(all).containsAll(kept);
        assertThat(kept.get(kept.size() - 1)).isEqualTo(all.get(all.size() - 1));
        // evenly spread: 36 samples (9 hours) between kept ones
        assertThat(kept.get(1).getEpochSecond() - kept.get(0).getEpochSecond()).isEqualTo(36 * 900);
    }
}
