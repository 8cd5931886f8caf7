/**
 * The command line (picocli): {@code migrate}, {@code import}, {@code status}, {@code daemon}, {@code db-url},
 * {@code config}, {@code precheck}, {@code keys} (generate, rotate, verify the secrets key) and later commands. Commands parse arguments, get their parts from
 * {@link io.certfleet.app.Certfleet} and print; they hold no logic of their own.
 */
package io.certfleet.cli;
