package io.certfleet.challenge;

import io.certfleet.model.Http01Token;

import java.util.Collection;

/**
 * Puts proofs where the CA will look for them and takes them away again. The pipeline publishes a proof before it
 * triggers the challenge and withdraws it once the authorization is decided (valid, invalid or abandoned).
 * Implementations are thread-safe. Today there is HTTP-01 ({@link DatabaseHttp01Publisher}); DNS-01 will be a
 * second implementation.
 */
public interface ChallengePublisher {

    /** Makes the proof visible to the CA on every node before this returns; replaces one with the same token. */
    void publish(Http01Token token);

    /** Stops serving the token; a token that is not published is ignored. */
    void withdraw(String token);

    /** Stops serving all of the tokens (e.g. every proof of a finished order). */
    default void withdrawAll(Collection<String> tokens) {
        tokens.forEach(this::withdraw);
    }
}
