package io.certfleet.batch;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SlidingWindowTest {
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final Duration HOUR = Duration.ofHours(1);

    private static Instant ago(int minutes) {
        return NOW.minus(Duration.ofMinutes(minutes));
    }

    @Test
    void eventsOutsideTheWindowDoNotCount() {
        List<Instant> events = List.of(ago(90), ago(61), ago(59), ago(10));
        assertThat(SlidingWindow.left(events, 5, HOUR, NOW)).isEqualTo(3);
        assertThat(SlidingWindow.freeAt(events, 5, HOUR, NOW)).isEqualTo(NOW);
    }

    @Test
    void aFullWindowFreesWhenItsOldestEventLeaves() {
        List<Instant> events = List.of(ago(10), ago(50), ago(30));
        assertThat(SlidingWindow.left(events, 3, HOUR, NOW)).isZero();
        assertThat(SlidingWindow.freeAt(events, 3, HOUR, NOW)).isEqualTo(ago(50).plus(HOUR));
    }

    @Test
    void aWindowOverItsLimitFreesOnlyWhenEnoughEventsHaveLeft() {
        // a limit lowered in the configuration: 4 events against a limit of 2; 3 must leave
        List<Instant> events = List.of(ago(50), ago(40), ago(30), ago(20));
        assertThat(SlidingWindow.freeAt(events, 2, HOUR, NOW)).isEqualTo(ago(30).plus(HOUR));
    }

    @Test
    void aLimitOfNothingIsABug() {
        assertThatThrownBy(() -> SlidingWindow.freeAt(List.of(), 0, HOUR, NOW))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
