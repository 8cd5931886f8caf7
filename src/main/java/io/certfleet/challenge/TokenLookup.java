package io.certfleet.challenge;

import io.certfleet.model.Http01Token;

import java.time.Instant;
import java.util.Optional;

/**
 * Where the responder finds tokens: {@link io.certfleet.store.Http01TokenStore#find} in production, a map in unit
 * tests. Returns only tokens that have not expired at {@code now}; throws (any runtime exception) when it cannot
 * tell, e.g. because the database is down.
 */
@FunctionalInterface
interface TokenLookup {
    Optional<Http01Token> find(String token, Instant now);
}
