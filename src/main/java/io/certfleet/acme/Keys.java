package io.certfleet.acme;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.KeyPair;
import org.shredzone.acme4j.util.KeyPairUtils;

/**
 * Key pairs for accounts and certificates, and their PEM form. The PEM holds the private key: hand it to the store,
 * which encrypts it; never log it.
 */
public final class Keys {

    /** The key types certfleet issues with; ECDSA P-256 is the default. */
    public enum Type {
        EC_P256,
        RSA_2048,
        RSA_3072
    }

    static {
        BouncyCastle.ensureRegistered();
    }

    private Keys() {
    }

    public static KeyPair generate(Type type) {
        return switch (type) {
            case EC_P256 -> KeyPairUtils.createECKeyPair("secp256r1");
            case RSA_2048 -> KeyPairUtils.createKeyPair(2048);
            case RSA_3072 -> KeyPairUtils.createKeyPair(3072);
        };
    }

    public static KeyPair generate() {
        return generate(Type.EC_P256);
    }

    /** PEM of the key pair (the private key, from which the public key is recovered). */
    public static String toPem(KeyPair keyPair) {
        try {
            StringWriter w = new StringWriter();
            KeyPairUtils.writeKeyPair(keyPair, w);
            return w.toString();
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a key pair to memory", e);
        }
    }

    /**
     * Reads a key pair written by {@link #toPem}.
     *
     * @throws IllegalArgumentException when the text is not a key pair PEM (the message never quotes the text)
     */
    public static KeyPair fromPem(String pem) {
        try {
            return KeyPairUtils.readKeyPair(new StringReader(pem));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a PEM key pair (" + e.getClass().getSimpleName() + ")");
        }
    }
}
