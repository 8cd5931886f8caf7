package io.certfleet.acme;

/** What certfleet asked the CA for when a failure happened; part of every {@link CaException}'s subject. */
public enum CaRequest {
    DIRECTORY,
    NEW_ACCOUNT,
    FETCH_ACCOUNT,
    NEW_ORDER,
    FETCH_ORDER,
    FETCH_AUTHORIZATION,
    TRIGGER_CHALLENGE,
    DEACTIVATE_AUTHORIZATION,
    FINALIZE,
    DOWNLOAD_CERTIFICATE,
    RENEWAL_INFO
}
