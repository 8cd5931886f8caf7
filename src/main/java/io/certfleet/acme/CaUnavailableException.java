package io.certfleet.acme;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaProblem;
import java.net.URL;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Not the names' fault: network failure, timeout, HTTP 5xx or another non-problem HTTP error, {@code serverInternal},
 * {@code badNonce} after acme4j's retries, a response that is not ACME. Retry the same step with backoff, not
 * before {@link #retryAfter()} when the CA sent one.
 */
public final class CaUnavailableException extends CaException {

    private final transient Optional<Instant> retryAfter;
    private final int httpStatus;

    public CaUnavailableException(CaEnvironment environment, CaRequest request, Optional<URL> url,
            Optional<CaProblem> problem, int httpStatus, Optional<Instant> retryAfter, String message,
            Throwable cause) {
        super(environment, request, url, problem, "CA unavailable"
                + (httpStatus > 0 ? " (HTTP " + httpStatus + ")" : "")
                + retryAfter.map(t -> ", retry after " + t).orElse("") + ": " + message, cause);
        this.retryAfter = Objects.requireNonNull(retryAfter);
        this.httpStatus = httpStatus;
    }

    public Optional<Instant> retryAfter() {
        return retryAfter;
    }

    /** The HTTP status when one was received, else 0 (network failure). */
    public int httpStatus() {
        return httpStatus;
    }
}
