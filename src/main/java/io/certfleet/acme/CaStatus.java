package io.certfleet.acme;

/** Status of an order, authorization or challenge as the CA reports it (RFC 8555 §7.1.6). */
public enum CaStatus {
    PENDING,
    READY,
    PROCESSING,
    VALID,
    INVALID,
    REVOKED,
    DEACTIVATED,
    EXPIRED,
    CANCELED,
    UNKNOWN;

    static CaStatus of(org.shredzone.acme4j.Status s) {
        return s == null ? UNKNOWN : valueOf(s.name());
    }
}
