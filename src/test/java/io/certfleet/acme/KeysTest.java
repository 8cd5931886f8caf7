package io.certfleet.acme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class KeysTest {

    @ParameterizedTest
    @EnumSource(Keys.Type.class)
    void pemRoundTripKeepsBothKeys(Keys.Type type) {
        KeyPair kp = Keys.generate(type);
        String pem = Keys.toPem(kp);
        assertThat(pem).startsWith("-----BEGIN");
        KeyPair back = Keys.fromPem(pem);
        assertThat(back.getPrivate().getEncoded()).isEqualTo(kp.getPrivate().getEncoded());
        assertThat(back.getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
    }

    @Test
    void defaultIsEcP256() {
        KeyPair kp = Keys.generate();
        assertThat(kp.getPublic().getAlgorithm()).isIn("EC", "ECDSA");
    }

    @Test
    void garbageIsRejectedWithoutQuotingIt() {
        assertThatThrownBy(() -> Keys.fromPem("secret-looking garbage"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("secret-looking");
    }
}
