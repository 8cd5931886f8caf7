package io.certfleet.acme;

import io.certfleet.model.CaProblem;
import java.net.URL;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * An order as last fetched. Persist {@link #url()}; everything else is re-read with {@code fetchOrder}.
 *
 * @param identifiers the order's identifiers, sorted (the CA may list them in any order)
 * @param authorizations authorization URLs, in the CA's order
 * @param error the order's problem ({@code order.error}), e.g. an asynchronous finalize failure
 * @param certificate where to download the certificate once {@code valid}
 * @param retryAfter when to poll again, if the CA said
 */
public record OrderState(URL url, CaStatus status, List<String> identifiers, List<URL> authorizations,
        Optional<Instant> expires, Optional<CaProblem> error, Optional<URL> certificate,
        Optional<Instant> retryAfter) {

    public OrderState {
        identifiers = List.copyOf(identifiers);
        authorizations = List.copyOf(authorizations);
    }

    /** All authorizations are valid; finalize may be called. */
    public boolean readyToFinalize() {
        return status == CaStatus.READY;
    }

    /** The order ended without a certificate. */
    public boolean failed() {
        return status == CaStatus.INVALID || status == CaStatus.EXPIRED || status == CaStatus.DEACTIVATED;
    }
}
