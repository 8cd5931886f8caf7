package io.certfleet.acme;

import io.certfleet.model.CaProblem;
import java.net.URL;
import java.time.Instant;
import java.util.Optional;

/**
 * An authorization as last fetched.
 *
 * @param identifier the name as ordered ({@code *.x} for a wildcard)
 * @param http01 the HTTP-01 challenge, absent when the CA offers none (wildcards)
 * @param retryAfter when to poll again, if the CA said
 */
public record AuthorizationState(URL url, String identifier, boolean wildcard, CaStatus status,
        Optional<Instant> expires, Optional<Http01Proof> http01, Optional<Instant> retryAfter) {

    /** The validation problem, if the HTTP-01 challenge failed. */
    public Optional<CaProblem> error() {
        return http01.flatMap(Http01Proof::error);
    }
}
