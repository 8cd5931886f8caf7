/**
 * The CAA pre-check: predicts, before certfleet spends a failed authorization on it, whether Let's Encrypt's CAA
 * check will let it issue for a name. It follows Boulder's rules exactly: the climb from the full name to the TLD
 * with all levels queried in parallel, {@code selectCAA} (a lookup error below the first level with records fails
 * the check), Boulder's rcode handling (NXDOMAIN below the TLD means "nothing here", every other error rcode, a
 * timeout after retries and a truncated answer fail), tag and property parsing, the critical flag, the wildcard
 * rule and the RFC 8657 {@code accounturi} and {@code validationmethods} parameters. Each name gets a verdict
 * (allowed, blocked, at-risk), one reason code, the level where it was decided and the DNS evidence. An optional
 * nameserver sweep asks every authoritative server directly and flags names whose servers fail or disagree; a
 * resolver canary and a failure-share rule (most names failing alike, under many registered domains) mark a run
 * degraded, so our own resolver's failures never block a customer's name. {@link io.certfleet.caa.CaaChecker} is the entry point; {@link io.certfleet.caa.CaaSettings}
 * configures it; the rest of the package is package-private.
 */
package io.certfleet.caa;
