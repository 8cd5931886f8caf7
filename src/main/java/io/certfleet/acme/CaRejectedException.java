package io.certfleet.acme;

import io.certfleet.model.Blame;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaProblem;
import java.net.URL;
import java.util.Objects;
import java.util.Optional;

/**
 * The CA refused because of the names in the request: policy ({@code rejectedIdentifier}, {@code malformed}
 * identifiers), CAA at finalize ({@code caa}, synchronous recheck), validation-type problems, or any other problem at
 * new-order or finalize that is neither transient nor a rate limit. {@link #blame()} says which members the CA
 * named; {@link Blame#namesNobody()} means bisect.
 */
public final class CaRejectedException extends CaException {

    private final transient Blame blame;

    public CaRejectedException(CaEnvironment environment, CaRequest request, Optional<URL> url, CaProblem problem,
            Blame blame, Throwable cause) {
        super(environment, request, url, Optional.of(problem),
                "rejected (" + (blame.namesNobody() ? "names nobody" : "blames " + blame.names()) + "): " + problem,
                cause);
        this.blame = Objects.requireNonNull(blame);
    }

    public Blame blame() {
        return blame;
    }

    /** The CA's problem (always present for a rejection). */
    public CaProblem caProblem() {
        return problem().orElseThrow();
    }
}
