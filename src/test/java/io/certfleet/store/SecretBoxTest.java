package io.certfleet.store;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SecretBoxTest {
    private static byte[] key() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return k;
    }

    private final SecretBox box = new SecretBox(key());
    private final byte[] secret = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n".getBytes(StandardCharsets.US_ASCII);

    @Test
    void roundTripsAndDoesNotContainThePlaintext() {
        byte[] ct = box.encrypt(secret, "certificate:1");
        assertThat(new String(ct, StandardCharsets.ISO_8859_1)).doesNotContain("PRIVATE KEY");
        assertThat(box.decrypt(ct, "certificate:1")).isEqualTo(secret);
    }

    @Test
    void eachEncryptionUsesAFreshNonce() {
        assertThat(box.encrypt(secret, "c")).isNotEqualTo(box.encrypt(secret, "c"));
    }

    @Test
    void wrongKeyWrongContextAndTamperingFailLoudly() {
        byte[] ct = box.encrypt(secret, "acme_account:staging");
        assertThatThrownBy(() -> new SecretBox(key()).decrypt(ct, "acme_account:staging"))
                .isInstanceOf(SecretBox.SecretDecryptionException.class).hasMessageContaining("acme_account:staging");
        assertThatThrownBy(() -> box.decrypt(ct, "acme_account:production"))
                .isInstanceOf(SecretBox.SecretDecryptionException.class);
        ct[ct.length - 1] ^= 1;
        assertThatThrownBy(() -> box.decrypt(ct, "acme_account:staging"))
                .isInstanceOf(SecretBox.SecretDecryptionException.class);
    }

    @Test
    void fingerprintIdentifiesTheKeyWithoutRevealingIt() {
        byte[] k = key();
        assertThat(new SecretBox(k).fingerprint()).isEqualTo(new SecretBox(k.clone()).fingerprint())
                .isNotEqualTo(new SecretBox(key()).fingerprint()).hasSize(32);
        assertThat(new SecretBox(k).toString()).doesNotContain(java.util.Base64.getEncoder().encodeToString(k));
    }

    @Test
    void aCiphertextNamesItsKeyAndAnotherKeyIsRefusedNamingBothIds() {
        byte[] ct = box.encrypt(secret, "certificate-key:7");
        assertThat(ct[0]).isEqualTo((byte) 2);
        assertThat(SecretBox.keyIdOf(ct)).contains(box.keyId());
        assertThat(box.keyId()).hasSize(16).isEqualTo(box.fingerprint().substring(0, 16));
        SecretBox other = new SecretBox(key());
        assertThatThrownBy(() -> other.decrypt(ct, "certificate-key:7"))
                .isInstanceOfSatisfying(SecretBox.WrongKeyException.class, e -> {
                    assertThat(e.neededKeyId()).isEqualTo(box.keyId());
                    assertThat(e.configuredKeyId()).isEqualTo(other.keyId());
                })
                .hasMessageContaining("certificate-key:7").hasMessageContaining(box.keyId())
                .hasMessageContaining(other.keyId());
    }

    @Test
    void aCiphertextRelabelledForAnotherKeyOrWithAnAlteredNonceDoesNotDecrypt() {
        byte[] ct = box.encrypt(secret, "c");
        SecretBox other = new SecretBox(key());
        byte[] relabelled = ct.clone();
        System.arraycopy(java.util.HexFormat.of().parseHex(other.keyId()), 0, relabelled, 1, 8);
        assertThatThrownBy(() -> other.decrypt(relabelled, "c")).isInstanceOf(SecretBox.SecretDecryptionException.class)
                .isNotInstanceOf(SecretBox.WrongKeyException.class).hasMessageContaining("does not decrypt");
        byte[] otherNonce = ct.clone();
        otherNonce[9] ^= 1;
        assertThatThrownBy(() -> box.decrypt(otherNonce, "c")).isInstanceOf(SecretBox.SecretDecryptionException.class);
        assertThatThrownBy(() -> box.decrypt(java.util.Arrays.copyOf(ct, 20), "c"))
                .isInstanceOf(SecretBox.SecretDecryptionException.class);
    }

    /** Ciphertexts written before key ids existed (format 1: no key id, the context alone as AAD) still open. */
    @Test
    void formatOneCiphertextsStillDecrypt() throws Exception {
        byte[] k = key();
        byte[] nonce = new byte[12];
        new SecureRandom().nextBytes(nonce);
        var c = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
        c.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(k, "AES"),
                new javax.crypto.spec.GCMParameterSpec(128, nonce));
        c.updateAAD("acme_account:staging".getBytes(StandardCharsets.UTF_8));
        byte[] body = c.doFinal(secret);
        byte[] v1 = java.nio.ByteBuffer.allocate(1 + 12 + body.length).put((byte) 1).put(nonce).put(body).array();

        assertThat(SecretBox.keyIdOf(v1)).isEmpty();
        assertThat(new SecretBox(k).decrypt(v1, "acme_account:staging")).isEqualTo(secret);
        assertThatThrownBy(() -> new SecretBox(key()).decrypt(v1, "acme_account:staging"))
                .isInstanceOf(SecretBox.SecretDecryptionException.class).hasMessageContaining("does not decrypt");
        assertThatThrownBy(() -> new SecretBox(k).decrypt(new byte[] {9, 1, 2}, "x")).hasMessageContaining("unknown format");
    }

    @Test
    void rejectsKeysThatAreNot256Bits() {
        assertThatThrownBy(() -> new SecretBox(new byte[16])).hasMessageContaining("32 bytes");
    }
}
