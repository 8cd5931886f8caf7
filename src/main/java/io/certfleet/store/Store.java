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

    private Store(StandardServiceRegistry registry, SessionFactory sessionFactory) {
        this.registry = registry;
        this.sessionFactory = sessionFactory;
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
            return new Store(registry, sources.buildMetadata().buildSessionFactory());
        } catch (RuntimeException e) {
            StandardServiceRegistryBuilder.destroy(registry);
            throw e;
        }
    }

    /** Runs {@code work} in one transaction; commits on return, rolls back on any exception. */
    public <T> T inTransaction(Function<Session, T> work) {
        return sessionFactory.fromTransaction(work);
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
