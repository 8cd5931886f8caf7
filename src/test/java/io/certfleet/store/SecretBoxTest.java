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
    void rejectsKeysThatAreNot256Bits() {
        assertThatThrownBy(() -> new SecretBox(new byte[16])).hasMessageContaining("32 bytes");
    }
}
