package io.certfleet.model;

/** The two ACME environments certfleet talks to: every order is rehearsed on staging before production. */
public enum CaEnvironment {
    STAGING,
    PRODUCTION
}
