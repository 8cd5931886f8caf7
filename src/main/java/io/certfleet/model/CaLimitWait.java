package io.certfleet.model;

import java.time.Instant;
import java.util.Objects;

/**
 * The CA's 429 for a scope (stored in {@code ca_limit_wait}): nothing in it may be ordered at that environment
 * before {@code until}.
 *
 * @param subject the identifier ({@link CaLimit.Scope#NAME}), the registered domain, or empty for the account
 * @param detail  the CA's words, for operators and customers
 */
public record CaLimitWait(CaEnvironment environment, CaLimit limit, CaLimit.Scope scope, String subject,
                          Instant until, String detail) {
    public CaLimitWait {
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(limit, "limit");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(until, "until");
        Objects.requireNonNull(detail, "detail");
    }
}
