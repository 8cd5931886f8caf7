package io.certfleet.acme;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaProblem;
import java.net.URL;
import java.util.Optional;

/**
 * The CA refused a new order because it holds more identifiers than the CA allows in one order (Boulder:
 * {@code malformed} "Order cannot contain more than N identifiers"; the limit depends on the profile). Our packing's
 * fault, never the names': nothing may be quarantined or bisected. {@link #maxIdentifiers()} is the CA's limit,
 * {@link #requested()} how many the refused order held.
 */
public final class CaOrderTooLargeException extends CaException {

    private final int maxIdentifiers;
    private final int requested;

    public CaOrderTooLargeException(CaEnvironment environment, CaRequest request, Optional<URL> url, CaProblem problem,
            int maxIdentifiers, int requested, Throwable cause) {
        super(environment, request, url, Optional.of(problem), "order of " + requested + " identifiers is over the CA's "
                + "limit of " + maxIdentifiers + " per order: " + problem, cause);
        this.maxIdentifiers = maxIdentifiers;
        this.requested = requested;
    }

    /** The most identifiers the CA accepts in one order, as its problem detail said. */
    public int maxIdentifiers() {
        return maxIdentifiers;
    }

    /** How many identifiers the refused order held. */
    public int requested() {
        return requested;
    }
}
