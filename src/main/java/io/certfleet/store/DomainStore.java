package io.certfleet.store;

import io.certfleet.model.DomainProblem;
import io.certfleet.model.DomainState;
import io.certfleet.model.NewDomain;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads and writes the {@code domain} table in bulk. */
public final class DomainStore {
    private static final String INSERT_NEW = """
            INSERT INTO domain (name, wildcard, input, customer, registered_domain)
            SELECT * FROM unnest(?::text[], ?::boolean[], ?::text[], ?::text[], ?::text[])
            ON CONFLICT (identifier) DO NOTHING
            RETURNING identifier""";

    private final Store store;

    public DomainStore(Store store) {
        this.store = store;
    }

    /**
     * Inserts the names that are not known yet as {@code pending}, in one statement and one transaction.
     *
     * @return how many of {@code batch} were new (the rest were already in the database)
     */
    public int insertNew(List<NewDomain> batch) {
        if (batch.isEmpty()) {
            return 0;
        }
        return store.inTransaction(s -> s.doReturningWork(c -> insert(c, batch)));
    }

    private static int insert(Connection c, List<NewDomain> batch) throws SQLException {
        int n = batch.size();
        String[] names = new String[n];
        Boolean[] wildcards = new Boolean[n];
        String[] inputs = new String[n];
        String[] customers = new String[n];
        String[] registered = new String[n];
        for (int i = 0; i < n; i++) {
            NewDomain d = batch.get(i);
            names[i] = d.name().name();
            wildcards[i] = d.name().wildcard();
            inputs[i] = d.input();
            customers[i] = d.customer().orElse(null);
            registered[i] = d.registeredDomain().orElse(null);
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_NEW)) {
            ps.setArray(1, c.createArrayOf("text", names));
            ps.setArray(2, c.createArrayOf("boolean", wildcards));
            ps.setArray(3, c.createArrayOf("text", inputs));
            ps.setArray(4, c.createArrayOf("text", customers));
            ps.setArray(5, c.createArrayOf("text", registered));
            int inserted = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    inserted++;
                }
            }
            return inserted;
        }
    }

    /** Number of domains in every state (states without domains count 0), in lifecycle order. */
    public Map<DomainState, Long> stateCounts() {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Map<DomainState, Long> out = new LinkedHashMap<>();
            for (DomainState st : DomainState.values()) {
                out.put(st, 0L);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT state, count FROM v_state_counts");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(DomainState.fromWire(rs.getString(1)), rs.getLong(2));
                }
            }
            return out;
        }));
    }

    /** The most recently failed (quarantined or held) domains, newest first. */
    public List<DomainProblem> recentProblems(int limit) {
        return store.inTransaction(s -> s.doReturningWork(c -> {
            List<DomainProblem> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT identifier, state, reason_code, reason_detail, updated_at, next_attempt_at
                    FROM domain WHERE state IN ('quarantined', 'held')
                    ORDER BY updated_at DESC, id DESC LIMIT ?""")) {
                ps.setInt(1, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Timestamp next = rs.getTimestamp(6);
                        out.add(new DomainProblem(rs.getString(1), DomainState.fromWire(rs.getString(2)),
                                Optional.ofNullable(rs.getString(3)), Optional.ofNullable(rs.getString(4)),
                                rs.getTimestamp(5).toInstant(),
                                Optional.ofNullable(next).map(Timestamp::toInstant)));
                    }
                }
            }
            return out;
        }));
    }

    /** Total number of domains. */
    public long count() {
        return store.inTransaction(s -> s.createSelectionQuery("select count(d) from DomainEntity d", Long.class)
                .getSingleResult());
    }

}
