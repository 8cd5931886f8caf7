package io.certfleet.batch;

import io.certfleet.model.RenewalWindow;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RenewalTimingTest {
    private static final Instant NB = Instant.parse("2026-01-01T00:00:00Z");
    private static final Instant NA = NB.plus(Duration.ofDays(90));

    @Test
    void withoutAriRenewsAroundTwoThirdsOfTheLifetimeSpreadOverDays() {
        Random r = new Random(42);
        Set<Long> days = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            RenewalTiming.Choice c = RenewalTiming.choose(NB, NA, Optional.empty(), NB, r);
            assertThat(c.at()).isBetween(NB.plus(Duration.ofHours(1339)), NB.plus(Duration.ofHours(1556)));
            days.add(Duration.between(NB, c.at()).toDays());
        }
        assertThat(days).as("renewals of certificates issued together spread over many days").hasSizeGreaterThan(7);
    }

    @Test
    void followsTheCasAriWindow() {
        Instant s = NB.plus(Duration.ofDays(30));
        Instant e = s.plus(Duration.ofDays(2));
        RenewalTiming.Choice c = RenewalTiming.choose(NB, NA, Optional.of(new RenewalWindow(s, e,
                Optional.of("https://ca.test/why"))), NB, new Random(1));
        assertThat(c.at()).isBetween(s, e);
        assertThat(c.basis()).contains("ARI").contains("https://ca.test/why");
    }

    @Test
    void aWindowInThePastMeansNowAndAWindowUnderWayStartsNow() {
        Instant now = NB.plus(Duration.ofDays(80));
        assertThat(RenewalTiming.choose(NB, NA, Optional.empty(), now, new Random(1)).at()).isEqualTo(now);
        Instant mid = NB.plus(Duration.ofDays(60));
        assertThat(RenewalTiming.choose(NB, NA, Optional.empty(), mid, new Random(1)).at())
                .isBetween(mid, NB.plus(Duration.ofHours(1556)));
    }
}
