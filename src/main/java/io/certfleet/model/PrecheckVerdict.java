package io.certfleet.model;

import java.util.Locale;

/** The CAA pre-check's prediction of what Let's Encrypt will decide for one name. */
public enum PrecheckVerdict {
    /** Let's Encrypt's CAA check is expected to pass. */
    ALLOWED,
    /** Let's Encrypt's CAA check is expected to fail; ordering the name would cost a failed authorization. */
    BLOCKED,
    /**
     * Expected to pass from here, but something makes the outcome uncertain (nameservers that fail or disagree,
     * or a degraded local resolver that could not give an answer we trust). The pipeline should not order the
     * name blindly, nor treat it as refused.
     */
    AT_RISK;

    /** The lower-case, hyphenated name used in JSON, CSV and the database: {@code allowed|blocked|at-risk}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses a {@link #wire()} name. */
    public static PrecheckVerdict fromWire(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT).replace('-', '_'));
    }
}
