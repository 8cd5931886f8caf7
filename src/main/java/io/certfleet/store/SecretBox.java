package io.certfleet.store;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * AES-256-GCM encryption of secrets at rest (account and certificate private keys). Each ciphertext is
 * {@code version(1) || nonce(12) || ciphertext+tag(16)} and is bound to a context string (for example
 * {@code "acme_account:staging"}) as additional authenticated data, so a ciphertext moved to another row does not
 * decrypt. The key never leaves this class; {@link #toString()} does not show it.
 */
public final class SecretBox {
    private static final byte VERSION = 1;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKey key;

    public SecretBox(byte[] keyBytes) {
        if (keyBytes.length != 32) {
            throw new IllegalArgumentException("the secrets key must be 32 bytes (AES-256), got " + keyBytes.length);
        }
        this.key = new SecretKeySpec(keyBytes.clone(), "AES");
    }

    public byte[] encrypt(byte[] plaintext, String context) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            byte[] ct = c.doFinal(plaintext);
            return ByteBuffer.allocate(1 + NONCE_BYTES + ct.length).put(VERSION).put(nonce).put(ct).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e);
        }
    }

    /**
     * @throws SecretDecryptionException when the data was encrypted with another key or for another context, or
     *                                   has been altered
     */
    public byte[] decrypt(byte[] data, String context) {
        if (data.length < 1 + NONCE_BYTES + TAG_BITS / 8 || data[0] != VERSION) {
            throw new SecretDecryptionException("encrypted secret for " + context + " has an unknown format");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, data, 1, NONCE_BYTES));
            c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            return c.doFinal(data, 1 + NONCE_BYTES, data.length - 1 - NONCE_BYTES);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new SecretDecryptionException("encrypted secret for " + context
                    + " does not decrypt with the configured secrets key (wrong key, or the data was altered)");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM decryption failed", e);
        }
    }

    /** A non-secret fingerprint of the key (HMAC of a fixed label), stored to detect a wrong key at start. */
    public String fingerprint() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
            byte[] h = mac.doFinal("certfleet secrets key check v1".getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(Arrays.copyOf(h, 16));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "SecretBox[fingerprint=" + fingerprint() + "]";
    }

    /** Encrypted data that cannot be decrypted with this key. */
    public static final class SecretDecryptionException extends RuntimeException {
        public SecretDecryptionException(String message) {
            super(message);
        }
    }
}
