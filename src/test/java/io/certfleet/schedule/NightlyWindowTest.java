package io.certfleet.schedule;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NightlyWindowTest {
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private final NightlyWindow window = new NightlyWindow("0 0 2 * * ?", BERLIN, Duration.ofHours(4));

    private static Instant berlin(String localDateTime) {
        return LocalDateTime.parse(localDateTime).atZone(BERLIN).toInstant();
    }

    @Test
    void opensAtTheNightlyFiringAndClosesWindowLengthLater() {
        assertThat(window.closedUntil(berlin("2026-11-30T01:59:59"))).contains(berlin("2026-11-30T02:00:00"));
        assertThat(window.closedUntil(berlin("2026-11-30T02:00:00"))).isEmpty();
        assertThat(window.closedUntil(berlin("2026-11-30T05:59:59"))).isEmpty();
        assertThat(window.closedUntil(berlin("2026-11-30T06:00:00"))).contains(berlin("2026-12-01T02:00:00"));
        assertThat(window.closedUntil(berlin("2026-11-30T23:00:00"))).contains(berlin("2026-12-01T02:00:00"));
    }

    @Test
    void followsTheNightlyJobAcrossDaylightSavingChanges() {
        // 2026-03-29: Berlin skips 02:00-03:00 local time and Quartz skips the 02:00 firing with it; the window
        // follows the job (no run, no window that night), so an operator in a DST zone avoids 02:00-03:00
        assertThat(window.closedUntil(berlin("2026-03-29T01:30:00"))).contains(berlin("2026-03-30T02:00:00"));
        // summer time: 02:00 CEST is 00:00 UTC, and the window still lasts four hours
        assertThat(window.closedUntil(Instant.parse("2026-07-01T23:30:00Z")))
                .contains(Instant.parse("2026-07-02T00:00:00Z"));
        assertThat(window.closedUntil(Instant.parse("2026-07-02T03:59:59Z"))).isEmpty();
        assertThat(window.closedUntil(Instant.parse("2026-07-02T04:00:00Z"))).isPresent();
        // 2026-10-25: 02:00 happens twice in Berlin; Quartz fires once, at the second (CET, 01:00 UTC)
        assertThat(window.closedUntil(Instant.parse("2026-10-25T00:30:00Z")))
                .contains(Instant.parse("2026-10-25T01:00:00Z"));
        assertThat(window.closedUntil(Instant.parse("2026-10-25T04:59:59Z"))).isEmpty();
        assertThat(window.closedUntil(Instant.parse("2026-10-25T05:00:00Z"))).contains(berlin("2026-10-26T02:00:00"));
    }

    @Test
    void aWindowAsLongAsTheCronPeriodIsAlwaysOpen() {
        NightlyWindow always = new NightlyWindow("0 0 2 * * ?", BERLIN, Duration.ofHours(24));
        for (int h = 0; h < 48; h++) {
            assertThat(always.closedUntil(berlin("2026-11-30T00:30:00").plus(Duration.ofHours(h)))).isEmpty();
        }
    }

    @Test
    void aCronThatNeverFiresAgainKeepsTheWindowShut() {
        NightlyWindow past = new NightlyWindow("0 0 2 1 1 ? 2020", BERLIN, Duration.ofHours(4));
        Instant now = Instant.parse("2026-11-30T10:00:00Z");
        assertThat(past.closedUntil(now)).isEqualTo(Optional.of(now.plus(Duration.ofDays(1))));
    }

    @Test
    void rejectsAnEmptyWindowAndABadCron() {
        assertThatThrownBy(() -> new NightlyWindow("0 0 2 * * ?", BERLIN, Duration.ZERO))
                .hasMessageContaining("positive");
        assertThatThrownBy(() -> new NightlyWindow("every night", BERLIN, Duration.ofHours(1)))
                .hasMessageContaining("every night");
    }
}
