/**
 * Pure planning, no I/O and no clock: packing names into orders of at most N ({@link io.certfleet.batch.Packer}),
 * and deciding how to isolate the names of a failed order — quarantine the blamed ones, or bisect a failure that
 * names nobody ({@link io.certfleet.batch.Isolation}).
 */
package io.certfleet.batch;
