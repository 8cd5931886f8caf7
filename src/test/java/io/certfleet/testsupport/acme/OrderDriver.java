package io.certfleet.testsupport.acme;

import io.certfleet.acme.AuthorizationState;
import io.certfleet.acme.CaAccount;
import io.certfleet.acme.CaException;
import io.certfleet.acme.CaStatus;
import io.certfleet.acme.OrderState;
import java.net.URL;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Test-side driver of the step API: publishes HTTP-01 proofs in a {@link ChallengeResponder}, triggers, and polls
 * with {@code fetchOrder}/{@code fetchAuthorization} in a bounded loop that honours Retry-After. The pipeline does
 * the same one step per scheduled call; tests may loop.
 */
public final class OrderDriver {

    private final CaAccount account;
    private final ChallengeResponder responder;
    private final Duration maxWait;

    public OrderDriver(CaAccount account, ChallengeResponder responder, Duration maxWait) {
        this.account = account;
        this.responder = responder;
        this.maxWait = maxWait;
    }

    /** Publishes and triggers every pending authorization; returns them as fetched before triggering. */
    public List<AuthorizationState> publishAndTrigger(OrderState order) throws CaException {
        List<AuthorizationState> out = new ArrayList<>();
        for (URL authz : order.authorizations()) {
            AuthorizationState a = account.fetchAuthorization(authz);
            out.add(a);
            if (a.status() == CaStatus.PENDING) {
                var proof = a.http01().orElseThrow(() -> new IllegalStateException("no http-01 for " + a.identifier()));
                responder.publish(proof.token(), proof.content());
                account.triggerChallenge(proof.url());
            }
        }
        return out;
    }

    /** Polls the order until the predicate holds or the budget runs out. */
    public OrderState pollOrder(URL orderUrl, Predicate<OrderState> done) throws CaException {
        Instant deadline = Instant.now().plus(maxWait);
        while (true) {
            OrderState o = account.fetchOrder(orderUrl);
            if (done.test(o) || o.failed() || Instant.now().isAfter(deadline)) {
                return o;
            }
            pause(o.retryAfter());
        }
    }

    /** Polls an authorization until it leaves pending/processing or the budget runs out. */
    public AuthorizationState pollAuthorization(URL authz) throws CaException {
        Instant deadline = Instant.now().plus(maxWait);
        while (true) {
            AuthorizationState a = account.fetchAuthorization(authz);
            if ((a.status() != CaStatus.PENDING && a.status() != CaStatus.PROCESSING)
                    || Instant.now().isAfter(deadline)) {
                return a;
            }
            pause(a.retryAfter());
        }
    }

    private static void pause(java.util.Optional<Instant> retryAfter) {
        long ms = retryAfter.map(t -> Duration.between(Instant.now(), t).toMillis()).orElse(100L);
        try {
            Thread.sleep(Math.max(50, Math.min(ms, 2000)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
