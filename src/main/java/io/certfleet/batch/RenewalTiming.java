package io.certfleet.batch;

import io.certfleet.model.RenewalWindow;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * When to renew a certificate: a random moment inside the CA's ARI window when it offers one, else inside a
 * window around two thirds of the lifetime ({@link #FALLBACK_FROM}–{@link #FALLBACK_TO}), so thousands of
 * certificates issued together do not all renew in the same night. A window already past gives "now".
 */
public final class RenewalTiming {
    static final double FALLBACK_FROM = 0.62;
    static final double FALLBACK_TO = 0.72;

    private RenewalTiming() {
    }

    /** The chosen time and why. */
    public record Choice(Instant at, String basis) {
    }

    public static Choice choose(Instant notBefore, Instant notAfter, Optional<RenewalWindow> ari, Instant now,
                                RandomGenerator random) {
        Instant start;
        Instant end;
        String basis;
        if (ari.isPresent()) {
            start = ari.get().start();
            end = ari.get().end();
            basis = "ARI window " + start + " .. " + end + ari.get().explanation().map(e -> " (" + e + ")").orElse("");
        } else {
            Duration life = Duration.between(notBefore, notAfter);
            start = notBefore.plusMillis((long) (life.toMillis() * FALLBACK_FROM));
            end = notBefore.plusMillis((long) (life.toMillis() * FALLBACK_TO));
            basis = "around 2/3 of the lifetime (" + start + " .. " + end + ")";
        }
        if (!end.isAfter(now)) {
            return new Choice(now, basis + ", already due");
        }
        Instant from = start.isAfter(now) ? start : now;
        long span = Duration.between(from, end).toMillis();
        return new Choice(from.plusMillis(span <= 0 ? 0 : random.nextLong(span)), basis);
    }
}
