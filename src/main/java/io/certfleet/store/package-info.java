/**
 * Persistence: the database (embedded PostgreSQL by default, or an external one), Flyway migrations, the Hibernate
 * mapping (validated against the schema, never creating it), bulk repositories and the encryption of secrets at
 * rest ({@link io.certfleet.store.SecretBox}, {@link io.certfleet.store.SecretKeys}) and its key rotation
 * ({@link io.certfleet.store.KeyRotation}). Every state change is one database transaction. Hibernate and JDBC
 * types do not leave this package.
 */
package io.certfleet.store;
