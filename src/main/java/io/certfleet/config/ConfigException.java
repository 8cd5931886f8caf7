package io.certfleet.config;

/** A configuration value that is missing, malformed or inconsistent. The message starts with the key's name. */
public final class ConfigException extends RuntimeException {
    private final String key;

    public ConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    public ConfigException(String key, String message, Throwable cause) {
        super(key + ": " + message, cause);
        this.key = key;
    }

    /** The configuration key at fault (or the file name, for a file that cannot be read). */
    public String key() {
        return key;
    }
}
