package io.certfleet.acme;

import java.net.URL;
import java.time.Instant;
import java.util.List;

/**
 * A downloaded certificate.
 *
 * @param chainPem leaf first, then the issuers, PEM
 * @param serialHex the leaf's serial number, lower-case hex without leading zeros
 * @param names the leaf's DNS subjectAltNames, sorted
 */
public record IssuedCertificate(URL url, String chainPem, String serialHex, Instant notBefore, Instant notAfter,
        List<String> names) {

    public IssuedCertificate {
        names = List.copyOf(names);
    }
}
