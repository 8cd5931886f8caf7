package io.certfleet.acme;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class CaProfilesTest {

    @Test
    void aKnownProfileWithASmallerLimitLowersTheConfiguredOneAndNothingRaisesIt() {
        assertThat(CaProfiles.maxNames(Optional.empty(), 100)).isEqualTo(100);
        assertThat(CaProfiles.maxNames(Optional.of("classic"), 100)).isEqualTo(100);
        assertThat(CaProfiles.maxNames(Optional.of("tlsserver"), 100)).isEqualTo(25);
        assertThat(CaProfiles.maxNames(Optional.of("shortlived"), 100)).isEqualTo(25);
        assertThat(CaProfiles.maxNames(Optional.of("shortlived"), 10)).isEqualTo(10);
        assertThat(CaProfiles.maxNames(Optional.of("someday"), 60)).as("an unknown profile").isEqualTo(60);
    }
}
