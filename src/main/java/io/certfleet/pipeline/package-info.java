/**
 * The issuance pipeline: admission (fresh-skip, CAA pre-check, packing), then each batch stepped through its
 * state machine — staging rehearsal, isolation of failures (blamed names quarantined, unattributed failures
 * bisected), production promotion — one transaction per step, resumable from the URLs stored at the CA.
 */
package io.certfleet.pipeline;
