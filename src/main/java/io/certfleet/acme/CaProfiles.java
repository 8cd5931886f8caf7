package io.certfleet.acme;

import java.util.Map;
import java.util.OptionalInt;

/**
 * What certfleet knows of Let's Encrypt's certificate profiles (le-behaviour §5, "Per-profile values"): how many
 * names one order may hold. A profile it does not know leaves the limit to {@code batch.max-names}, and a CA that
 * refuses an order as too large is handled as {@link CaOrderTooLargeException}.
 */
public final class CaProfiles {

    private static final Map<String, Integer> MAX_NAMES = Map.of("classic", 100, "tlsserver", 25, "shortlived", 25);

    private CaProfiles() {
    }

    /** The most names one order of this profile may hold, when certfleet knows the profile. */
    public static OptionalInt maxNames(String profile) {
        Integer n = MAX_NAMES.get(profile);
        return n == null ? OptionalInt.empty() : OptionalInt.of(n);
    }
}
