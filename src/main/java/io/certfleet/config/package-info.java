/**
 * Configuration: one validated, immutable {@link io.certfleet.config.Settings} tree built from built-in defaults,
 * a Java properties file, {@code CERTFLEET_*} environment variables and {@code --set key=value} flags, in that
 * order of precedence. Every key is validated at start-up and a bad one fails with its name; the effective
 * configuration is logged once with secrets masked. {@code config/certfleet.example.properties} lists every key.
 */
package io.certfleet.config;
