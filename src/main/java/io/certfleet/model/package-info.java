/**
 * Immutable values shared by every capability: normalised domain names, states, verdicts and outcomes.
 * JDK only; no package here depends on a library.
 */
package io.certfleet.model;
