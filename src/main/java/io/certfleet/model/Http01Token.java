package io.certfleet.model;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An HTTP-01 proof to serve: the CA fetches {@code http://<identifier>/.well-known/acme-challenge/<token>} and
 * expects {@code keyAuthorization} as the body. The key authorization is public by design (anyone can fetch it),
 * but {@link #toString()} leaves it out all the same so logs stay short.
 *
 * @param token the challenge token, base64url as the CA sent it ({@link #isWellFormedToken(String)})
 * @param keyAuthorization {@code token "." base64url(JWK thumbprint of the account key)}
 * @param identifier the name being validated (for logs and operators)
 * @param environment the CA environment whose order this token belongs to
 * @param authzUrl the authorization at the CA, if known
 * @param expiresAt after this instant the token is no longer served (normally the authorization's expiry)
 */
public record Http01Token(String token, String keyAuthorization, String identifier, CaEnvironment environment,
        Optional<String> authzUrl, Instant expiresAt) {

    /** The token syntax the schema enforces: base64url characters, 1 to 255 of them. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,255}");
    private static final Pattern THUMBPRINT = Pattern.compile("[A-Za-z0-9_-]{1,255}");

    public Http01Token {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(keyAuthorization, "keyAuthorization");
        Objects.requireNonNull(identifier, "identifier");
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(authzUrl, "authzUrl");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (!isWellFormedToken(token)) {
            throw new IllegalArgumentException("HTTP-01 token for " + identifier + " is not 1-255 base64url characters"
                    + " (length " + token.length() + ")");
        }
        if (!keyAuthorization.startsWith(token + ".")
                || !THUMBPRINT.matcher(keyAuthorization.substring(token.length() + 1)).matches()) {
            throw new IllegalArgumentException("key authorization for " + identifier + " (token " + token
                    + ") is not '<token>.<base64url thumbprint>'");
        }
        if (identifier.isBlank()) {
            throw new IllegalArgumentException("HTTP-01 token " + token + " has a blank identifier");
        }
    }

    /** Whether {@code token} has the syntax of an ACME token (and may therefore be looked up or stored). */
    public static boolean isWellFormedToken(String token) {
        return token != null && TOKEN.matcher(token).matches();
    }

    @Override
    public String toString() {
        return "Http01Token[" + token + ", " + identifier + ", " + environment.wire() + ", expires " + expiresAt + "]";
    }
}
