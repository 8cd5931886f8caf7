package io.certfleet.acme;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaProblem;
import java.net.URL;
import java.util.Objects;
import java.util.Optional;

/**
 * The one checked root for failures of a CA: which environment, what was asked ({@link CaRequest}), at which URL,
 * and the CA's problem document when it sent one. Subclasses carry the data a caller decides on:
 * {@link CaRejectedException} (the names' fault, with blame), {@link CaRateLimitedException} (wait or unpause),
 * {@link CaUnavailableException} (the CA's fault, retry with backoff), {@link CaOrderTooLargeException} (more names
 * than the CA allows per order: split, never blame). A plain {@code CaException} is anything else
 * (a request the CA refused for reasons that are neither the names' nor transient, e.g. {@code orderNotReady},
 * {@code accountDoesNotExist}, {@code badCSR}) and usually means a bug or a state mismatch on our side.
 */
public class CaException extends Exception {

    private final CaEnvironment environment;
    private final CaRequest request;
    private final transient Optional<URL> url;
    private final transient Optional<CaProblem> problem;

    public CaException(CaEnvironment environment, CaRequest request, Optional<URL> url, Optional<CaProblem> problem,
            String message, Throwable cause) {
        super(subject(environment, request, url) + ": " + message, cause);
        this.environment = Objects.requireNonNull(environment);
        this.request = Objects.requireNonNull(request);
        this.url = Objects.requireNonNull(url);
        this.problem = Objects.requireNonNull(problem);
    }

    public CaEnvironment environment() {
        return environment;
    }

    public CaRequest request() {
        return request;
    }

    public Optional<URL> url() {
        return url;
    }

    /** The CA's problem document, absent for network failures and non-problem HTTP errors. */
    public Optional<CaProblem> problem() {
        return problem;
    }

    private static String subject(CaEnvironment environment, CaRequest request, Optional<URL> url) {
        return environment.name().toLowerCase(java.util.Locale.ROOT) + " " + request
                + url.map(u -> " " + u).orElse("");
    }
}
