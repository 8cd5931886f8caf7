package io.certfleet.acme;

import java.util.Map;
import java.util.Optional;

/**
 * What certfleet knows of Let's Encrypt's certificate profiles (le-behaviour §5, "Per-profile values"): how many
 * names one order may hold. A profile it does not know leaves the limit to {@code batch.max-names}, and a CA that
 * refuses an order as too large is handled as {@link CaOrderTooLargeException}.
 */
public final class CaProfiles {

    private static final Map<String, Integer> MAX_NAMES = Map.of("classic", 100, "tlsserver", 25, "shortlived", 25);

    private CaProfiles() {
    }

    /**
     * The most names one order may hold: {@code configured} ({@code batch.max-names}), or the profile's limit when
     * that is lower and certfleet knows the profile.
     */
    public static int maxNames(Optional<String> profile, int configured) {
        return Math.min(configured, profile.map(MAX_NAMES::get).orElse(configured));
    }
}
