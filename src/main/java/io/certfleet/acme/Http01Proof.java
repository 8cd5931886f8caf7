package io.certfleet.acme;

import io.certfleet.model.CaProblem;
import java.net.URL;
import java.time.Instant;
import java.util.Optional;

/**
 * An HTTP-01 challenge: serve {@link #content()} at {@code http://<name>/.well-known/acme-challenge/<token>}, then
 * trigger {@link #url()}. {@link #error()} is the validation problem when it failed.
 */
public record Http01Proof(URL url, String token, String content, CaStatus status, Optional<Instant> validated,
        Optional<CaProblem> error) {

    public String path() {
        return "/.well-known/acme-challenge/" + token;
    }
}
