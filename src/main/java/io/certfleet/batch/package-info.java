/**
 * Pure planning, no I/O and no clock: packing names into orders of at most N ({@link io.certfleet.batch.Packer}),
 * deciding how to isolate the names of a failed order — quarantine the blamed ones, or bisect a failure that
 * names nobody ({@link io.certfleet.batch.Isolation}) — and keeping to Let's Encrypt's limits: per order
 * ({@link io.certfleet.batch.Budget}) and per name ({@link io.certfleet.batch.NameLimits}), over sliding windows
 * ({@link io.certfleet.batch.SlidingWindow}).
 */
package io.certfleet.batch;
