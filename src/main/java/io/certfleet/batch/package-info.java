/**
 * Pure planning, no I/O and no clock: packing names into orders of at most N ({@link io.certfleet.batch.Packer});
 * the search that isolates a name making an order fail without the CA naming it ({@link io.certfleet.batch.Bisection}:
 * adaptive probes of the names already verified plus half the suspects, so that a passing final probe is itself the
 * re-rehearsal of the other names; what to do with names the CA did blame is decided in
 * {@code io.certfleet.pipeline.Isolator}); and keeping to Let's Encrypt's limits: per order
 * ({@link io.certfleet.batch.Budget}) and per name ({@link io.certfleet.batch.NameLimits}), over sliding windows
 * ({@link io.certfleet.batch.SlidingWindow}).
 */
package io.certfleet.batch;
