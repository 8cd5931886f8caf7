package io.certfleet.acme;

import io.certfleet.model.Blame;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaLimit;
import io.certfleet.model.CaProblem;
import java.net.URI;
import java.net.URL;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A {@code rateLimited} refusal (HTTP 429). {@link #retryAfter()} is the CA's Retry-After when sent (else the
 * {@code retry after} time of the detail). A paused account/identifier pair ({@link #paused()}) has none: waiting
 * does not help, a human must visit {@link #unpauseUrl()}. {@link #limit()} is the limit the detail names, and
 * {@link #limitSubject()} its registered domain or identifier when it names one; {@link #scopeNames()} are the
 * names (or registered domains) the detail text mentions, members or not; {@link #blame()} is the subset that are
 * members of the order.
 */
public final class CaRateLimitedException extends CaException {

    private final transient Optional<Instant> retryAfter;
    private final String scope;
    private final boolean paused;
    private final transient Optional<URI> unpauseUrl;
    private final transient Set<String> scopeNames;
    private final transient Blame blame;
    private final transient Optional<CaLimit> limit;
    private final transient Optional<String> limitSubject;

    public CaRateLimitedException(CaEnvironment environment, CaRequest request, Optional<URL> url, CaProblem problem,
            Optional<Instant> retryAfter, boolean paused, Optional<URI> unpauseUrl, Set<String> scopeNames,
            Blame blame, Throwable cause) {
        super(environment, request, url, Optional.of(problem), describe(problem, retryAfter, paused), cause);
        this.retryAfter = Objects.requireNonNull(retryAfter);
        this.scope = problem.detail();
        this.paused = paused;
        this.unpauseUrl = Objects.requireNonNull(unpauseUrl);
        this.scopeNames = Set.copyOf(scopeNames);
        this.blame = Objects.requireNonNull(blame);
        this.limit = paused ? Optional.empty() : ProblemAttribution.limitOf(problem.detail());
        this.limitSubject = paused ? Optional.empty() : ProblemAttribution.limitSubject(problem.detail());
    }

    /** The limit the CA's detail names (empty for the paused wording and for wordings certfleet does not know). */
    public Optional<CaLimit> limit() {
        return limit;
    }

    /** The registered domain or identifier the limit's detail names, lower case (none for account and exact set). */
    public Optional<String> limitSubject() {
        return limitSubject;
    }

    public Optional<Instant> retryAfter() {
        return retryAfter;
    }

    /** The CA's detail text: which limit, its count and window, and the domain or identifier. */
    public String scope() {
        return scope;
    }

    public boolean paused() {
        return paused;
    }

    public Optional<URI> unpauseUrl() {
        return unpauseUrl;
    }

    public Set<String> scopeNames() {
        return scopeNames;
    }

    public Blame blame() {
        return blame;
    }

    private static String describe(CaProblem problem, Optional<Instant> retryAfter, boolean paused) {
        String when = paused ? "paused until unpaused by hand"
                : retryAfter.map(t -> "retry after " + t).orElse("no Retry-After given");
        // The detail of a paused refusal carries a JWT in the portal URL; keep it out of the message.
        String detail = paused ? problem.detail().replaceAll("jwt=\\S+", "jwt=…") : problem.detail();
        return "rate limited (" + when + "): " + detail;
    }
}
