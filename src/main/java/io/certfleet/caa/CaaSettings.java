package io.certfleet.caa;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Everything a {@link CaaChecker} needs, validated whole at construction; an invalid value fails with the
 * setting's name. Start from {@link #defaults()} and change what you need with the {@code with…} methods.
 *
 * @param resolvers        recursive resolvers as {@code HOST[:PORT]} ({@code [v6]:PORT} for IPv6); empty means
 *                         the system's resolvers (dnsjava {@code ResolverConfig})
 * @param perTryTimeout    how long one try waits for an answer
 * @param tries            tries per query in total; only timeouts are retried, rotating over the resolvers
 * @param concurrency      how many names are checked at once (each sends at most one query per label)
 * @param sweep            ask every authoritative nameserver directly for the CAA set, and report disagreements
 *                         and failures as at-risk
 * @param nameserverPort   port the sweep sends to (53; tests point it at a loopback test server)
 * @param caIdentities     issuer domains that count as the CA (Boulder: exact, case-sensitive compare)
 * @param accountUri       our ACME account URL for the environment being checked; records with an
 *                         {@code accounturi} parameter only match it; empty means no record with accounturi matches
 * @param validationMethod the challenge type the order will use ({@code http-01}, {@code dns-01},
 *                         {@code tls-alpn-01})
 * @param dnssecAnchor     a trust-anchor file (DS or DNSKEY records in zone-file format) to validate DNSSEC
 *                         ourselves; empty leaves validation to the resolver
 * @param canaryNames      names looked up before a run to check the resolver (CAA queries); empty skips the canary
 * @param degradedShare    a run is degraded when the names that failed alike (all timed out, or all got SERVFAIL or
 *                         REFUSED, or all had a nameserver fail in the sweep) are more than this share of its
 *                         checked names …
 * @param degradedMinCount … and they lie under at least this many different registered domains (one customer's
 *                         broken zone with 50 names under it is that customer's fault, not our resolver's)
 * @param rehearsalAccountUri our staging account URL when names checked for production are rehearsed on staging
 *                         first: a record whose {@code accounturi} lets only the production account issue then
 *                         blocks the name too, because the rehearsal cannot pass; empty checks one account only
 */
public record CaaSettings(List<String> resolvers, Duration perTryTimeout, int tries, int concurrency, boolean sweep,
                          int nameserverPort, List<String> caIdentities, Optional<String> accountUri,
                          String validationMethod, Optional<Path> dnssecAnchor, List<String> canaryNames,
                          double degradedShare, int degradedMinCount, Optional<String> rehearsalAccountUri) {

    public static final String LETS_ENCRYPT = "letsencrypt.org";
    public static final List<String> VALIDATION_METHODS = List.of("http-01", "dns-01", "tls-alpn-01");

    private static final Pattern HOST_PORT = Pattern.compile("(?:\\[([0-9A-Fa-f:.]+)]|([^:\\[\\]]+))(?::(\\d{1,5}))?");

    public CaaSettings {
        resolvers = List.copyOf(resolvers);
        caIdentities = List.copyOf(caIdentities);
        canaryNames = List.copyOf(canaryNames);
        Objects.requireNonNull(perTryTimeout, "perTryTimeout");
        Objects.requireNonNull(accountUri, "accountUri");
        Objects.requireNonNull(validationMethod, "validationMethod");
        Objects.requireNonNull(dnssecAnchor, "dnssecAnchor");
        Objects.requireNonNull(rehearsalAccountUri, "rehearsalAccountUri");
        for (String r : resolvers) {
            parseHostPort(r, 53);
        }
        if (perTryTimeout.isNegative() || perTryTimeout.isZero()) {
            throw new IllegalArgumentException("precheck.timeout must be positive, was " + perTryTimeout);
        }
        if (tries < 1 || tries > 10) {
            throw new IllegalArgumentException("precheck.tries must be 1..10, was " + tries);
        }
        if (concurrency < 1 || concurrency > 10_000) {
            throw new IllegalArgumentException("precheck.concurrency must be 1..10000, was " + concurrency);
        }
        if (nameserverPort < 1 || nameserverPort > 65535) {
            throw new IllegalArgumentException("the nameserver port must be 1..65535, was " + nameserverPort);
        }
        if (caIdentities.isEmpty() || caIdentities.stream().anyMatch(String::isBlank)) {
            throw new IllegalArgumentException("precheck.ca-identity must name at least one CA domain, was "
                    + caIdentities);
        }
        if (!VALIDATION_METHODS.contains(validationMethod)) {
            throw new IllegalArgumentException("precheck.method must be one of " + VALIDATION_METHODS
                    + ", was '" + validationMethod + "'");
        }
        if (accountUri.isPresent() && accountUri.get().isBlank()) {
            throw new IllegalArgumentException("the account URI must not be blank");
        }
        if (!(degradedShare > 0 && degradedShare <= 1)) {
            throw new IllegalArgumentException("precheck.degraded-share must be in (0, 1], was " + degradedShare);
        }
        if (degradedMinCount < 1) {
            throw new IllegalArgumentException("precheck.degraded-min-domains must be at least 1, was " + degradedMinCount);
        }
    }

    /**
     * System resolvers, 1 s × 3 tries, 256 names at once, sweep on, Let's Encrypt, http-01, canary {@code com},
     * degraded when more than half the names fail alike under at least 10 registered domains.
     */
    public static CaaSettings defaults() {
        return new CaaSettings(List.of(), Duration.ofSeconds(1), 3, 256, true, 53, List.of(LETS_ENCRYPT),
                Optional.empty(), "http-01", Optional.empty(), List.of("com"), 0.5, 10, Optional.empty());
    }

    /**
     * Parses {@code HOST[:PORT]} or {@code [IPv6]:PORT}.
     *
     * @return host and port
     * @throws IllegalArgumentException naming the bad value
     */
    public static HostPort parseHostPort(String value, int defaultPort) {
        Matcher m = HOST_PORT.matcher(value == null ? "" : value.strip());
        if (value == null || value.isBlank() || !m.matches()) {
            // A bare IPv6 address without brackets: accept it with the default port.
            if (value != null && value.chars().filter(c -> c == ':').count() >= 2 && value.matches("[0-9A-Fa-f:.]+")) {
                return new HostPort(value, defaultPort);
            }
            throw new IllegalArgumentException("resolver '" + value + "' is not HOST[:PORT] or [IPv6]:PORT");
        }
        String host = m.group(1) != null ? m.group(1) : m.group(2);
        int port = defaultPort;
        if (m.group(3) != null) {
            port = Integer.parseInt(m.group(3));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("resolver '" + value + "' has port " + port
                        + " outside 1..65535");
            }
        }
        return new HostPort(host, port);
    }

    /** A parsed {@code HOST[:PORT]}. */
    public record HostPort(String host, int port) {
    }

    public CaaSettings withResolvers(List<String> v) {
        return new CaaSettings(v, perTryTimeout, tries, concurrency, sweep, nameserverPort, caIdentities, accountUri,
                validationMethod, dnssecAnchor, canaryNames, degradedShare, degradedMinCount,
                rehearsalAccountUri);
    }

    public CaaSettings withTimeout(Duration perTry, int n) {
        return new CaaSettings(resolvers, perTry, n, concurrency, sweep, nameserverPort, caIdentities, accountUri,
                validationMethod, dnssecAnchor, canaryNames, degradedShare, degradedMinCount,
                rehearsalAccountUri);
    }

    public CaaSettings withConcurrency(int v) {
        return new CaaSettings(resolvers, perTryTimeout, tries, v, sweep, nameserverPort, caIdentities, accountUri,
                validationMethod, dnssecAnchor, canaryNames, degradedShare, degradedMinCount,
                rehearsalAccountUri);
    }

    public CaaSettings withSweep(boolean v, int port) {
        return new CaaSettings(resolvers, perTryTimeout, tries, concurrency, v, port, caIdentities, accountUri,
                validationMethod, dnssecAnchor, canaryNames, degradedShare, degradedMinCount,
                rehearsalAccountUri);
    }

    public CaaSettings withCa(List<String> identities, Optional<String> account, String method) {
        return new CaaSettings(resolvers, perTryTimeout, tries, concurrency, sweep, nameserverPort, identities,
                account, method, dnssecAnchor, canaryNames, degradedShare, degradedMinCount,
                rehearsalAccountUri);
    }

    public CaaSettings withDnssecAnchor(Optional<Path> v) {
        return new CaaSettings(resolvers, perTryTimeout, tries, concurrency, sweep, nameserverPort, caIdentities,
                accountUri, validationMethod, v, canaryNames, degradedShare, degradedMinCount,
                rehearsalAccountUri);
    }

    public CaaSettings withRehearsalAccount(Optional<String> v) {
        return new CaaSettings(resolvers, perTryTimeout, tries, concurrency, sweep, nameserverPort, caIdentities,
                accountUri, validationMethod, dnssecAnchor, canaryNames, degradedShare, degradedMinCount, v);
    }

    public CaaSettings withHealth(List<String> canaries, double share, int minCount) {
        return new CaaSettings(resolvers, perTryTimeout, tries, concurrency, sweep, nameserverPort, caIdentities,
                accountUri, validationMethod, dnssecAnchor, canaries, share, minCount, rehearsalAccountUri);
    }
}
