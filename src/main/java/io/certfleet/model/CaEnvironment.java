package io.certfleet.model;

import java.util.Locale;

/**
 * The two ACME environments certfleet talks to: every order is rehearsed on staging before production. Stored in
 * the database as the lower-case {@link #wire()} name.
 */
public enum CaEnvironment {
    STAGING,
    PRODUCTION;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static CaEnvironment fromWire(String s) {
        return valueOf(s.strip().toUpperCase(Locale.ROOT));
    }
}
