package io.certfleet.model;

import java.util.Locale;

/** Where a domain stands; stored in {@code domain.state} as the lower-case {@link #wire()} name. */
public enum DomainState {
    /** Waits for pre-check and ordering. */
    PENDING,
    /**
     * Waits for something that is not its fault, until its next attempt time: the CA's limits or certfleet's budget
     * ({@code BUDGET_*}, {@code RATE_LIMITED_*}), DNS-01 support for a wildcard ({@code NEEDS_DNS01}), or an at-risk
     * pre-check verdict while {@code precheck.hold-at-risk} is on. A degraded resolver holds nothing: the names it
     * could not check stay {@link #PENDING} and are checked again 15 minutes later.
     */
    HELD,
    /** Blocked for its own fault (reason code says why); re-checked at its next attempt time. */
    QUARANTINED,
    /** In an open batch. */
    BATCHED,
    /** Covered by a valid production certificate. */
    ISSUED,
    /** Taken out by the operator. */
    REMOVED;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DomainState fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
