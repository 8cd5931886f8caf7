package io.certfleet.batch;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaLimit;
import io.certfleet.model.CaLimitWait;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The limits that concern single names, checked before a name is packed and again before every order (bisection
 * probes and re-rehearsals included): the pause guard (consecutive failed authorizations, long before Let's
 * Encrypt pauses the name for the account), the CA's own 429 waits for a name or for its registered domain, and
 * failed authorizations per name per account per hour. Pure: no I/O, no clock.
 *
 * <p>A stopped name ({@link Hold#stopped()}) waits until an operator releases it; a held one until the latest of
 * the times that apply to it.
 */
public final class NameLimits {
    /** Window of the failed-authorizations limit. */
    public static final Duration FAILED_AUTHORIZATION_WINDOW = Duration.ofHours(1);
    /** Reason code of a name the pause guard stopped. */
    public static final String PAUSE_GUARD = "PAUSE_GUARD";

    private NameLimits() {
    }

    /** A name to check. */
    public record Name(long domainId, String identifier, Optional<String> registeredDomain) {
    }

    /**
     * What the ledger says about the names.
     *
     * @param failedAuthorizations      per environment, the times authorizations of each identifier failed
     * @param failedAuthorizationLimits per environment, failed authorizations allowed per name per hour
     * @param streaks                   consecutive failed authorizations per identifier (highest of the accounts)
     * @param pauseGuard                the streak at which a name stops until an operator releases it
     * @param waits                     the CA's 429 waits that have not ended
     */
    public record Facts(Map<CaEnvironment, Map<String, List<Instant>>> failedAuthorizations,
                        Map<CaEnvironment, Long> failedAuthorizationLimits, Map<String, Integer> streaks,
                        int pauseGuard, List<CaLimitWait> waits, Instant now) {
    }

    /** A name that may not be ordered now: until a time, or, with no time, until an operator releases it. */
    public record Hold(long domainId, String reason, String detail, Optional<Instant> until) {
        public boolean stopped() {
            return until.isEmpty();
        }
    }

    /** The holds of the names that may not be ordered now; names not listed may go. */
    public static List<Hold> check(List<Name> names, Facts facts) {
        List<Hold> out = new ArrayList<>();
        for (Name n : names) {
            check(n, facts).ifPresent(out::add);
        }
        return out;
    }

    static Optional<Hold> check(Name n, Facts facts) {
        int streak = facts.streaks().getOrDefault(n.identifier(), 0);
        if (streak >= facts.pauseGuard()) {
            return Optional.of(new Hold(n.domainId(), PAUSE_GUARD, streak + " authorizations of this name failed in a "
                    + "row (pause guard: " + facts.pauseGuard() + "); certfleet stops ordering it, long before Let's "
                    + "Encrypt would pause it for the account, until an operator fixes the cause and releases it "
                    + "(certfleet release " + n.identifier() + ")", Optional.empty()));
        }
        Hold latest = null;
        for (CaLimitWait w : facts.waits()) {
            if (w.until().isAfter(facts.now()) && applies(w, n)) {
                latest = later(latest, new Hold(n.domainId(), w.limit().rateLimitedReason(), "Let's Encrypt "
                        + w.environment().wire() + " refused orders for " + describe(w) + " until " + w.until()
                        + ": " + w.detail(), Optional.of(w.until())));
            }
        }
        for (var e : facts.failedAuthorizations().entrySet()) {
            long limit = facts.failedAuthorizationLimits().getOrDefault(e.getKey(), Long.MAX_VALUE);
            List<Instant> failures = e.getValue().getOrDefault(n.identifier(), List.of());
            if (SlidingWindow.left(failures, limit, FAILED_AUTHORIZATION_WINDOW, facts.now()) == 0) {
                Instant until = SlidingWindow.freeAt(failures, limit, FAILED_AUTHORIZATION_WINDOW, facts.now());
                latest = later(latest, new Hold(n.domainId(), CaLimit.FAILED_AUTHORIZATIONS.budgetReason(),
                        limit + " authorizations of this name failed at " + e.getKey().wire() + " within the last "
                                + "hour (the CA's limit); it is ordered again when the oldest leaves the hour",
                        Optional.of(until)));
            }
        }
        return Optional.ofNullable(latest);
    }

    private static boolean applies(CaLimitWait w, Name n) {
        return switch (w.scope()) {
            case NAME -> w.subject().equals(n.identifier());
            case REGISTERED_DOMAIN -> n.registeredDomain().filter(w.subject()::equals).isPresent();
            case ACCOUNT -> false; // the account's wait is an order window, not a name's
        };
    }

    private static String describe(CaLimitWait w) {
        return switch (w.scope()) {
            case NAME -> "this name (" + w.limit().wire().replace('_', ' ') + ")";
            case REGISTERED_DOMAIN -> "the registered domain " + w.subject() + " (certificates per domain)";
            case ACCOUNT -> "the account (new orders)";
        };
    }

    private static Hold later(Hold a, Hold b) {
        return a == null || b.until().orElseThrow().isAfter(a.until().orElseThrow()) ? b : a;
    }
}
