package io.certfleet.config;

import java.util.Locale;

/**
 * One configuration key: its name in the file, its default (as text; empty means "unset"), whether it is a secret
 * (masked when logged) and the one-line reason shown in the example file.
 */
record Key(String name, String defaultValue, boolean secret, String doc) {

    /** The environment variable that overrides this key: {@code db.url} becomes {@code CERTFLEET_DB_URL}. */
    String envName() {
        return "CERTFLEET_" + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }
}
