package io.certfleet.challenge;

import io.certfleet.model.Http01Token;
import io.certfleet.store.Http01TokenStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.List;

/**
 * Publishes HTTP-01 proofs in the database, where every node's {@link Http01Responder} finds them, and drops this
 * node's cached copy on every change so a withdrawn or replaced token is never served from here again. Other nodes
 * notice a withdrawal when their cache entry ends, after at most the cache TTL.
 */
public final class DatabaseHttp01Publisher implements ChallengePublisher {
    private static final Logger log = LoggerFactory.getLogger(DatabaseHttp01Publisher.class);

    private final Http01TokenStore tokens;
    private final Http01Responder responder;

    /**
     * @param tokens where proofs are stored
     * @param responder this node's responder, whose cache is invalidated on every change
     */
    public DatabaseHttp01Publisher(Http01TokenStore tokens, Http01Responder responder) {
        this.tokens = tokens;
        this.responder = responder;
    }

    @Override
    public void publish(Http01Token token) {
        try {
            tokens.publish(token);
        } finally {
            responder.invalidate(token.token());
        }
        log.debug("{}: published HTTP-01 token {} ({}, expires {})", token.identifier(), token.token(),
                token.environment().wire(), token.expiresAt());
    }

    @Override
    public void withdraw(String token) {
        withdrawAll(List.of(token));
    }

    @Override
    public void withdrawAll(Collection<String> toWithdraw) {
        int deleted;
        try {
            deleted = tokens.withdrawAll(toWithdraw);
        } finally {
            toWithdraw.forEach(responder::invalidate);
        }
        log.debug("withdrew {} HTTP-01 tokens ({} were stored)", toWithdraw.size(), deleted);
    }
}
