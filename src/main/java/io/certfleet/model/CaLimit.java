package io.certfleet.model;

import java.util.Locale;

/**
 * The Let's Encrypt limits certfleet keeps to in its own ledger (le-behaviour.md §5), each with the scope a 429
 * of that limit applies to: the account, a registered domain, or names. The reason codes of names waiting for a
 * limit derive from the name: {@code BUDGET_<LIMIT>} when certfleet's ledger holds them back before the CA has to,
 * {@code RATE_LIMITED_<LIMIT>} when the CA answered 429.
 */
public enum CaLimit {
    /** New orders per account per 3 hours. */
    NEW_ORDERS(Scope.ACCOUNT),
    /** Certificates per registered domain (Public Suffix List eTLD+1) per 7 days. */
    CERTIFICATES_PER_DOMAIN(Scope.REGISTERED_DOMAIN),
    /** Certificates per exact set of identifiers per 7 days. */
    EXACT_SET(Scope.NAME),
    /** Failed authorizations per identifier per account per hour. */
    FAILED_AUTHORIZATIONS(Scope.NAME);

    /** What a wait for the limit covers; stored as the lower-case {@link #wire()} name. */
    public enum Scope {
        ACCOUNT, REGISTERED_DOMAIN, NAME;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Scope fromWire(String s) {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        }
    }

    private final Scope scope;

    CaLimit(Scope scope) {
        this.scope = scope;
    }

    public Scope scope() {
        return scope;
    }

    /** Reason code of a name certfleet's ledger holds back for this limit. */
    public String budgetReason() {
        return "BUDGET_" + name();
    }

    /** Reason code of a name waiting for the CA's 429 of this limit. */
    public String rateLimitedReason() {
        return "RATE_LIMITED_" + name();
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static CaLimit fromWire(String s) {
        return valueOf(s.strip().toUpperCase(Locale.ROOT));
    }
}
