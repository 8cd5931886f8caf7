/**
 * The composition root: builds database, store, secrets, pre-check, ACME clients, pipeline and scheduler from
 * the settings, starts them in order and stops them in the reverse order.
 */
package io.certfleet.app;
