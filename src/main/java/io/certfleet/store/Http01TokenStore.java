package io.certfleet.store;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.Http01Token;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

/**
 * The HTTP-01 proofs every node of a cluster serves: one row per token in {@code http01_token}. Token syntax is
 * checked before any SQL runs, so text from the network never reaches a query unless it could be a token.
 * Expired rows are ignored by {@link #find} and deleted by {@link HousekeepingStore#deleteExpiredTokens(Instant)}.
 */
public final class Http01TokenStore {
    /** Tokens per {@code delete ... in (...)} statement. */
    private static final int CHUNK = 1000;

    private final Store store;

    public Http01TokenStore(Store store) {
        this.store = store;
    }

    /** Stores the token, or replaces what is stored under the same token (the creation time is kept). */
    public void publish(Http01Token token) {
        store.inTransaction(s -> s.createMutationQuery("""
                        insert into Http01TokenEntity (token, keyAuthorization, identifier, environment, authzUrl,
                            expiresAt, createdAt)
                        values (:token, :keyAuthorization, :identifier, :environment, :authzUrl, :expiresAt,
                            current_timestamp)
                        on conflict (token) do update set keyAuthorization = excluded.keyAuthorization,
                            identifier = excluded.identifier, environment = excluded.environment,
                            authzUrl = excluded.authzUrl, expiresAt = excluded.expiresAt
                        """)
                .setParameter("token", token.token())
                .setParameter("keyAuthorization", token.keyAuthorization())
                .setParameter("identifier", token.identifier())
                .setParameter("environment", token.environment().wire())
                .setParameter("authzUrl", token.authzUrl().orElse(null), String.class)
                .setParameter("expiresAt", token.expiresAt())
                .executeUpdate());
    }

    /**
     * The token if it is stored and {@code now} is before its expiry. A string that is not a well-formed token
     * (anything a client may put in a URL) is simply not found, without a query.
     */
    public Optional<Http01Token> find(String token, Instant now) {
        if (!Http01Token.isWellFormedToken(token)) {
            return Optional.empty();
        }
        return store.inTransaction(s -> s.createSelectionQuery(
                        "from Http01TokenEntity t where t.token = :token and t.expiresAt > :now", Http01TokenEntity.class)
                .setParameter("token", token).setParameter("now", now)
                .uniqueResultOptional()
                .map(Http01TokenStore::toModel));
    }

    /**
     * Deletes the token.
     *
     * @return whether it was stored
     * @throws IllegalArgumentException if {@code token} is not a well-formed token (a caller's bug)
     */
    public boolean withdraw(String token) {
        return withdrawAll(List.of(token)) > 0;
    }

    /**
     * Deletes all of the tokens, in one transaction.
     *
     * @return how many were stored
     * @throws IllegalArgumentException if any is not a well-formed token; nothing is deleted then
     */
    public int withdrawAll(Collection<String> tokens) {
        List<String> distinct = new ArrayList<>(new LinkedHashSet<>(tokens));
        for (String t : distinct) {
            if (!Http01Token.isWellFormedToken(t)) {
                throw new IllegalArgumentException("cannot withdraw HTTP-01 token '" + abbreviate(t)
                        + "': not 1-255 base64url characters");
            }
        }
        if (distinct.isEmpty()) {
            return 0;
        }
        return store.inTransaction(s -> {
            int deleted = 0;
            for (int i = 0; i < distinct.size(); i += CHUNK) {
                deleted += s.createMutationQuery("delete from Http01TokenEntity t where t.token in (:tokens)")
                        .setParameterList("tokens", distinct.subList(i, Math.min(distinct.size(), i + CHUNK)))
                        .executeUpdate();
            }
            return deleted;
        });
    }

    private static Http01Token toModel(Http01TokenEntity e) {
        return new Http01Token(e.token, e.keyAuthorization, e.identifier, CaEnvironment.fromWire(e.environment),
                Optional.ofNullable(e.authzUrl), e.expiresAt);
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "null";
        }
        String printable = s.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() <= 40 ? printable : printable.substring(0, 40) + "...";
    }
}
