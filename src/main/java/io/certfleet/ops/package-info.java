/**
 * What operators watch: the {@code /healthz}, {@code /readyz} and {@code /metrics} endpoint, and the Prometheus
 * metrics built from a database snapshot of the fleet (so every node of a cluster reports the same numbers).
 */
package io.certfleet.ops;
