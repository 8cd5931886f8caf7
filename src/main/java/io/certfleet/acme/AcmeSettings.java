package io.certfleet.acme;

import io.certfleet.model.CaEnvironment;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How to reach one CA environment.
 *
 * @param environment staging or production; the subject of every failure
 * @param directory the directory URL ({@code https://…/directory}) or an acme4j {@code acme://} URI
 * @param extraTrustedCaPem PEM certificates trusted in addition to the JDK's roots (test or private CAs)
 * @param timeout HTTP connect and request timeout
 * @param sessions how many acme4j sessions to spread parallel calls over (a session makes one call at a time)
 * @param requestsPerSecond most HTTP requests per second to this CA, across all sessions (the CA's per-IP limit)
 * @param profile the certificate profile new orders ask for (draft-aaron-acme-profiles); empty asks for none, and
 *                the CA uses its default ({@code classic} at Let's Encrypt)
 */
public record AcmeSettings(CaEnvironment environment, URI directory, Optional<String> extraTrustedCaPem,
        Duration timeout, int sessions, double requestsPerSecond, Optional<String> profile) {

    /** Let's Encrypt staging allows 20 requests/s per IP on /acme/*, production 250/s; stay below both. */
    public static double defaultRequestsPerSecond(CaEnvironment env) {
        return env == CaEnvironment.STAGING ? 15 : 100;
    }

    public AcmeSettings(CaEnvironment environment, URI directory, Optional<String> extraTrustedCaPem, Duration timeout,
                        int sessions) {
        this(environment, directory, extraTrustedCaPem, timeout, sessions, defaultRequestsPerSecond(environment));
    }

    public AcmeSettings(CaEnvironment environment, URI directory, Optional<String> extraTrustedCaPem, Duration timeout,
                        int sessions, double requestsPerSecond) {
        this(environment, directory, extraTrustedCaPem, timeout, sessions, requestsPerSecond, Optional.empty());
    }

    public AcmeSettings {
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(extraTrustedCaPem, "extraTrustedCaPem");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(profile, "profile");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        if (sessions < 1 || sessions > 64) {
            throw new IllegalArgumentException("sessions must be 1..64: " + sessions);
        }
        if (!(requestsPerSecond > 0)) {
            throw new IllegalArgumentException("requestsPerSecond must be positive: " + requestsPerSecond);
        }
    }

    public static AcmeSettings of(CaEnvironment environment, URI directory) {
        return new AcmeSettings(environment, directory, Optional.empty(), Duration.ofSeconds(30), 4);
    }

    public AcmeSettings withTrustedCa(String pem) {
        return new AcmeSettings(environment, directory, Optional.of(pem), timeout, sessions, requestsPerSecond, profile);
    }

    public AcmeSettings withTimeout(Duration t) {
        return new AcmeSettings(environment, directory, extraTrustedCaPem, t, sessions, requestsPerSecond, profile);
    }

    public AcmeSettings withSessions(int n) {
        return new AcmeSettings(environment, directory, extraTrustedCaPem, timeout, n, requestsPerSecond, profile);
    }

    public AcmeSettings withProfile(Optional<String> p) {
        return new AcmeSettings(environment, directory, extraTrustedCaPem, timeout, sessions, requestsPerSecond, p);
    }

    public AcmeSettings withRequestsPerSecond(double r) {
        return new AcmeSettings(environment, directory, extraTrustedCaPem, timeout, sessions, r, profile);
    }
}
