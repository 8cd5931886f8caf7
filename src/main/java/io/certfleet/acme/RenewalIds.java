package io.certfleet.acme;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Optional;
import org.shredzone.acme4j.toolbox.AcmeUtils;

/**
 * ARI CertIDs (RFC 9773 §4.1): {@code base64url(authorityKeyIdentifier) "." base64url(serial)} of a certificate,
 * computed by acme4j. A renewal order names the certificate it replaces with it.
 */
public final class RenewalIds {
    private RenewalIds() {
    }

    /**
     * The CertID of the leaf (first) certificate of a PEM chain; empty when the chain is unreadable or the leaf
     * lacks the authority key identifier ARI needs.
     */
    public static Optional<String> of(String chainPem) {
        try {
            var certs = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(chainPem.getBytes(StandardCharsets.US_ASCII)));
            if (certs.isEmpty() || !(certs.iterator().next() instanceof X509Certificate leaf)) {
                return Optional.empty();
            }
            return Optional.of(AcmeUtils.getRenewalUniqueIdentifier(leaf));
        } catch (CertificateException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
