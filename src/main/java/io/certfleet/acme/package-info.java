/**
 * The only user of acme4j: a small, typed, step-at-a-time facade over one ACME environment (staging or
 * production). {@link io.certfleet.acme.AcmeClient} reads the directory, registers accounts and logs in;
 * {@link io.certfleet.acme.CaAccount} creates, fetches and finalizes orders, fetches authorizations, triggers
 * HTTP-01 challenges and downloads certificates. Every call is one request or a few, never a polling loop: the
 * CA's Retry-After comes back to the caller, who persists URLs (never objects) and re-binds them after a restart.
 * Failures of the CA are one checked root, {@link io.certfleet.acme.CaException}, whose subclasses say whether the
 * names are at fault ({@link io.certfleet.acme.CaRejectedException}, with the blamed members computed by
 * {@link io.certfleet.acme.ProblemAttribution}), the CA limits us ({@link io.certfleet.acme.CaRateLimitedException})
 * or the CA is having trouble ({@link io.certfleet.acme.CaUnavailableException}). No acme4j type leaves this package.
 */
package io.certfleet.acme;
