package io.certfleet.store;

import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.boot.MetadataSources;
import org.hibernate.boot.registry.StandardServiceRegistry;
import org.hibernate.boot.registry.StandardServiceRegistryBuilder;
import org.hibernate.cfg.AvailableSettings;

import javax.sql.DataSource;
import java.util.List;
import java.util.function.Function;

/**
 * Hibernate over certfleet's schema. Hibernate only maps the schema Flyway made ({@code hbm2ddl} validate), so a
 * mapping that disagrees with the database fails at start. Every state change runs in one transaction through
 * {@link #inTransaction(Function)}.
 */
public final class Store implements AutoCloseable {

    static final List<Class<?>> ENTITIES = List.of(
            DomainEntity.class, PrecheckRunEntity.class, PrecheckResultEntity.class, AcmeAccountEntity.class,
            BatchEntity.class, BatchMemberEntity.class, ValidationEntity.class, CertificateEntity.class,
            CertificateNameEntity.class, Http01TokenEntity.class, CaEventEntity.class, SecretKeyCheckEntity.class);

    private final SessionFactory sessionFactory;
    private final StandardServiceRegistry registry;
    private final DataSource dataSource;

    private Store(StandardServiceRegistry registry, SessionFactory sessionFactory, DataSource dataSource) {
        this.registry = registry;
        this.sessionFactory = sessionFactory;
        this.dataSource = dataSource;
    }

    /** Builds the session factory on a migrated database; fails if an entity and the schema disagree. */
    public static Store open(DataSource dataSource) {
        StandardServiceRegistry registry = new StandardServiceRegistryBuilder()
                .applySetting(AvailableSettings.JAKARTA_NON_JTA_DATASOURCE, dataSource)
                .applySetting(AvailableSettings.HBM2DDL_AUTO, "validate")
                .applySetting(AvailableSettings.STATEMENT_BATCH_SIZE, 100)
                .applySetting(AvailableSettings.ORDER_INSERTS, true)
                .applySetting(AvailableSettings.ORDER_UPDATES, true)
                .applySetting(AvailableSettings.JDBC_TIME_ZONE, "UTC")
                .applySetting(AvailableSettings.SHOW_SQL, false)
                .applySetting("hibernate.boot.allow_jdbc_metadata_access", true)
                .build();
        try {
            MetadataSources sources = new MetadataSources(registry);
            ENTITIES.forEach(sources::addAnnotatedClass);
            return new Store(registry, sources.buildMetadata().buildSessionFactory(), dataSource);
        } catch (RuntimeException e) {
            StandardServiceRegistryBuilder.destroy(registry);
            throw e;
        }
    }

    /** Runs {@code work} in one transaction; commits on return, rolls back on any exception. */
    public <T> T inTransaction(Function<Session, T> work) {
        return sessionFactory.fromTransaction(work);
    }

    /**
     * Runs {@code work} while holding a cluster-wide PostgreSQL advisory lock named {@code name}, or returns empty
     * at once when another process holds it (two nodes must not admit the same names at the same moment).
     */
    public <T> java.util.Optional<T> exclusively(String name, java.util.function.Supplier<T> work) {
        long key = name.hashCode() * 2654435761L;
        try (java.sql.Connection c = dataSource.getConnection()) {
            boolean got;
            try (var ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                ps.setLong(1, key);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    got = rs.getBoolean(1);
                }
            }
            if (!got) {
                return java.util.Optional.empty();
            }
            try {
                return java.util.Optional.ofNullable(work.get());
            } finally {
                try (var ps = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
                    ps.setLong(1, key);
                    ps.execute();
                }
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("advisory lock '" + name + "': " + e.getMessage(), e);
        }
    }

    SessionFactory sessionFactory() {
        return sessionFactory;
    }

    @Override
    public void close() {
        sessionFactory.close();
        StandardServiceRegistryBuilder.destroy(registry);
    }
}
