package io.certfleet.caa;

import java.util.Locale;
import java.util.Objects;

/**
 * One CAA resource record as the rules see it: flags, tag and value, without any dnsjava type so the rules can be
 * tested without a network.
 */
record CaaProperty(int flags, String tag, String value) {
    CaaProperty {
        Objects.requireNonNull(tag);
        Objects.requireNonNull(value);
    }

    /** Tags compare case-insensitively (Boulder's {@code filterCAA}). */
    String canonicalTag() {
        return tag.toLowerCase(Locale.ROOT);
    }

    /** Critical as Boulder reads it: bit 128 (the RFC's issuer-critical bit) or bit 1 (the common misreading). */
    boolean critical() {
        return (flags & 0x80) != 0 || (flags & 0x01) != 0;
    }

    /** Presentation form, as dig shows it: {@code 0 issue "letsencrypt.org"}. */
    String text() {
        return flags + " " + tag + " \"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
