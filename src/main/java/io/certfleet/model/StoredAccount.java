package io.certfleet.model;

/**
 * An ACME account as stored: where it lives at the CA and its decrypted private key in PEM. The key is a secret:
 * {@link #toString()} leaves it out.
 */
public record StoredAccount(long id, CaEnvironment environment, String directoryUrl, String accountUrl, char[] keyPem) {
    @Override
    public String toString() {
        return "StoredAccount[id=" + id + ", " + environment.wire() + ", " + accountUrl + "]";
    }
}
