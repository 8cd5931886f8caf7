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
import java.util.Optional;

/**
 * AES-256-GCM encryption of secrets at rest (account and certificate private keys). Each ciphertext is
 * {@code 2 || key id(8) || nonce(12) || ciphertext+tag(16)}; the key id is the first 8 bytes of the key's
 * {@link #fingerprint()}, so a ciphertext says which key it needs (see docs/decisions/0003-key-rotation.md). The
 * additional authenticated data is the header followed by a context string (for example
 * {@code "acme_account:staging:<directory>"}), so a ciphertext moved to another row does not decrypt. Ciphertexts
 * of format 1 ({@code 1 || nonce || ciphertext+tag}, no key id, context only as AAD), written before key rotation
 * existed, still decrypt; {@code certfleet keys rotate} rewrites them in format 2. The key never leaves this class;
 * {@link #toString()} does not show it.
 */
public final class SecretBox {
    private static final byte V1 = 1;
    private static final byte V2 = 2;
    private static final int KEY_ID_BYTES = 8;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final int V2_HEADER = 1 + KEY_ID_BYTES;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKey key;
    private final String fingerprint;
    private final byte[] keyId;

    public SecretBox(byte[] keyBytes) {
        if (keyBytes.length != 32) {
            throw new IllegalArgumentException("the secrets key must be 32 bytes (AES-256), got " + keyBytes.length);
        }
        this.key = new SecretKeySpec(keyBytes.clone(), "AES");
        this.fingerprint = computeFingerprint(key);
        this.keyId = HexFormat.of().parseHex(fingerprint.substring(0, 2 * KEY_ID_BYTES));
    }

    public byte[] encrypt(byte[] plaintext, String context) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        byte[] header = ByteBuffer.allocate(V2_HEADER).put(V2).put(keyId).array();
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(header);
            c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            byte[] ct = c.doFinal(plaintext);
            return ByteBuffer.allocate(V2_HEADER + NONCE_BYTES + ct.length).put(header).put(nonce).put(ct).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e);
        }
    }

    /**
     * @throws WrongKeyException         when the data names another key than this one
     * @throws SecretDecryptionException when the data was encrypted for another context, or has been altered (or,
     *                                   for format 1, encrypted with another key)
     */
    public byte[] decrypt(byte[] data, String context) {
        if (data.length >= 1 && data[0] == V2 && data.length >= V2_HEADER + NONCE_BYTES + TAG_BITS / 8) {
            String id = keyIdOf(data).orElseThrow();
            if (!id.equals(keyId())) {
                throw new WrongKeyException("encrypted secret for " + context + " needs the secrets key with id " + id
                        + ", but the configured key has id " + keyId(), id, keyId());
            }
            return open(data, V2_HEADER, context, Arrays.copyOf(data, V2_HEADER));
        }
        if (data.length >= 1 + NONCE_BYTES + TAG_BITS / 8 && data[0] == V1) {
            return open(data, 1, context, new byte[0]);
        }
        throw new SecretDecryptionException("encrypted secret for " + context + " has an unknown format");
    }

    private byte[] open(byte[] data, int nonceAt, String context, byte[] header) {
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, data, nonceAt, NONCE_BYTES));
            c.updateAAD(header);
            c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            int at = nonceAt + NONCE_BYTES;
            return c.doFinal(data, at, data.length - at);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new SecretDecryptionException("encrypted secret for " + context
                    + " does not decrypt with the configured secrets key (wrong key, or the data was altered)");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM decryption failed", e);
        }
    }

    /** The id of the key a ciphertext was encrypted with (16 hex digits); empty for format 1, which has none. */
    public static Optional<String> keyIdOf(byte[] data) {
        if (data.length < V2_HEADER || data[0] != V2) {
            return Optional.empty();
        }
        return Optional.of(HexFormat.of().formatHex(data, 1, V2_HEADER));
    }

    /** This key's id as it appears in its ciphertexts: the first 16 hex digits of {@link #fingerprint()}. */
    public String keyId() {
        return HexFormat.of().formatHex(keyId);
    }

    /** A non-secret fingerprint of the key (HMAC of a fixed label), stored to detect a wrong key at start. */
    public String fingerprint() {
        return fingerprint;
    }

    private static String computeFingerprint(SecretKey key) {
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
        return "SecretBox[fingerprint=" + fingerprint + "]";
    }

    /** Encrypted data that cannot be decrypted with this key. */
    public static class SecretDecryptionException extends RuntimeException {
        public SecretDecryptionException(String message) {
            super(message);
        }
    }

    /**
     * Encrypted data that names another key than the one this process has: after {@code certfleet keys rotate}, a
     * process still running with the replaced key gets this instead of a result (and never writes with it).
     */
    public static final class WrongKeyException extends SecretDecryptionException {
        private final String neededKeyId;
        private final String configuredKeyId;

        public WrongKeyException(String message, String neededKeyId, String configuredKeyId) {
            super(message);
            this.neededKeyId = neededKeyId;
            this.configuredKeyId = configuredKeyId;
        }

        /** The key id the data (or the database) needs. */
        public String neededKeyId() {
            return neededKeyId;
        }

        /** The key id of the key this process was started with. */
        public String configuredKeyId() {
            return configuredKeyId;
        }
    }
}
