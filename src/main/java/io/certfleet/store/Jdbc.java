package io.certfleet.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** Small JDBC helpers for the bulk repositories: parameters, arrays and optional columns. */
final class Jdbc {
    private Jdbc() {
    }

    interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    static int update(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(c, ps, params);
            return ps.executeUpdate();
        }
    }

    static <T> List<T> query(Connection c, String sql, RowMapper<T> mapper, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(c, ps, params);
            List<T> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(mapper.map(rs));
                }
            }
            return out;
        }
    }

    static long insertReturningId(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql + " RETURNING id")) {
            bind(c, ps, params);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static void bind(Connection c, PreparedStatement ps, Object... params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            Object p = params[i];
            if (p instanceof Optional<?> o) {
                p = o.orElse(null);
            }
            int idx = i + 1;
            if (p == null) {
                ps.setNull(idx, Types.NULL);
            } else if (p instanceof Instant t) {
                ps.setTimestamp(idx, Timestamp.from(t));
            } else if (p instanceof LongArray a) {
                ps.setArray(idx, c.createArrayOf("bigint", a.values()));
            } else if (p instanceof TextArray a) {
                ps.setArray(idx, c.createArrayOf("text", a.values()));
            } else {
                ps.setObject(idx, p);
            }
        }
    }

    record LongArray(Long[] values) {
        static LongArray of(Collection<Long> ids) {
            return new LongArray(ids.toArray(Long[]::new));
        }
    }

    record TextArray(String[] values) {
        static TextArray of(Collection<String> s) {
            return new TextArray(s.toArray(String[]::new));
        }
    }

    static Optional<Instant> instant(ResultSet rs, String col) throws SQLException {
        Timestamp t = rs.getTimestamp(col);
        return t == null ? Optional.empty() : Optional.of(t.toInstant());
    }

    static Optional<Long> optLong(ResultSet rs, String col) throws SQLException {
        long v = rs.getLong(col);
        return rs.wasNull() ? Optional.empty() : Optional.of(v);
    }

    static List<Long> longs(ResultSet rs, String col) throws SQLException {
        Array a = rs.getArray(col);
        if (a == null) {
            return List.of();
        }
        Object[] arr = (Object[]) a.getArray();
        return Arrays.stream(arr).map(o -> ((Number) o).longValue()).toList();
    }
}
