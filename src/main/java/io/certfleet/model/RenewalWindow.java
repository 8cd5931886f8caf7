package io.certfleet.model;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/** When the CA suggests renewing a certificate (ARI, RFC 9773), with the URL of its explanation if any. */
public record RenewalWindow(Instant start, Instant end, Optional<String> explanation) {
    public RenewalWindow {
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        if (end.isBefore(start)) {
            throw new IllegalArgumentException("renewal window ends (" + end + ") before it starts (" + start + ")");
        }
    }
}
