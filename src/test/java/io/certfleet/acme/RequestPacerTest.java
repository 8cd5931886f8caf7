package io.certfleet.acme;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestPacerTest {
    @Test
    void spacesSlotsByOneOverTheRateAndForgetsIdleTime() {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        RequestPacer p = new RequestPacer(20, now::get); // 50 ms apart
        assertThat(p.reserve()).isZero();
        assertThat(p.reserve()).isEqualTo(50_000_000L);
        assertThat(p.reserve()).isEqualTo(100_000_000L);
        now.addAndGet(1_000_000_000L); // a second of idleness does not build up a burst
        assertThat(p.reserve()).isZero();
        assertThat(p.reserve()).isEqualTo(50_000_000L);
    }

    @Test
    void twentyRequestsAtOnceSpreadOverOneSecond() {
        AtomicLong now = new AtomicLong(0);
        RequestPacer p = new RequestPacer(20, now::get);
        long last = 0;
        for (int i = 0; i < 20; i++) {
            last = p.reserve();
        }
        assertThat(last).isEqualTo(950_000_000L);
    }

    @Test
    void rejectsANonPositiveRate() {
        assertThatThrownBy(() -> new RequestPacer(0)).hasMessageContaining("positive");
    }
}
