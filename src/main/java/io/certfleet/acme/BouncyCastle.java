package io.certfleet.acme;

import java.security.Security;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/** acme4j's key utilities ask for the "BC" provider by name; register it once, at the end of the list. */
final class BouncyCastle {

    private BouncyCastle() {
    }

    static synchronized void ensureRegistered() {
        if (Security.getProvider(BouncyCastleProvider.PROVIDER_NAME) == null) {
            Security.addProvider(new BouncyCastleProvider());
        }
    }
}
