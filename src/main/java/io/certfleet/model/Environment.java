package io.certfleet.model;

import java.util.Locale;

/** The two ACME servers certfleet talks to: staging rehearses, production issues. */
public enum Environment {
    STAGING,
    PRODUCTION;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Environment fromWire(String s) {
        return valueOf(s.strip().toUpperCase(Locale.ROOT));
    }
}
