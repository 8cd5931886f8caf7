package io.certfleet.model;

import java.time.Instant;
import java.util.List;

/** A stored certificate, without its key. */
public record IssuedCertificateRecord(long id, CaEnvironment environment, long batchId, List<String> names,
                                      String serial, Instant notBefore, Instant notAfter, String chainPem) {
    public IssuedCertificateRecord {
        names = List.copyOf(names);
    }
}
