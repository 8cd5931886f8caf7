package io.certfleet.store;

import io.certfleet.model.CaEnvironment;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The local rate-limit ledger: what was spent at the CA inside each limit's window, from {@code ca_event} and
 * {@code certificate}. */
public final class LedgerStore {
    private final Store store;

    public LedgerStore(Store store) {
        this.store = store;
    }

    /** New orders placed by an account inside the window, and when the oldest of them leaves it. */
    public record Spent(long count, Optional<Instant> oldest) {
    }

    public Spent newOrders(CaEnvironment env, long accountId, Instant now, Duration window) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c, """
                SELECT count(*), min(occurred_at) FROM ca_event WHERE environment = ? AND account_id = ?
                  AND request = 'NEW_ORDER' AND outcome = 'ok' AND occurred_at > ?""",
                rs -> new Spent(rs.getLong(1), Jdbc.instant(rs, "min")), env.wire(), accountId,
                now.minus(window)).get(0)));
    }

    /** Production certificates issued inside the window per registered domain, and when the oldest leaves it. */
    public Map<String, Spent> certificatesByRegisteredDomain(Collection<String> registeredDomains, Instant now,
                                                             Duration window) {
        if (registeredDomains.isEmpty()) {
            return Map.of();
        }
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Map<String, Spent> out = new HashMap<>();
            Jdbc.query(c, """
                    SELECT d.registered_domain, count(DISTINCT x.id), min(x.created_at) FROM certificate x
                    JOIN certificate_name cn ON cn.certificate_id = x.id JOIN domain d ON d.id = cn.domain_id
                    WHERE x.environment = 'production' AND x.created_at > ? AND d.registered_domain = ANY(?)
                    GROUP BY 1""", rs -> out.put(rs.getString(1), new Spent(rs.getLong(2), Jdbc.instant(rs, "min"))),
                    now.minus(window), Jdbc.TextArray.of(registeredDomains));
            return out;
        }));
    }

    /** Holds names back: {@code held} with the budget reason and the earliest time they can go. */
    public void hold(Map<Long, String[]> reasonAndDetail, Map<Long, Instant> until) {
        if (reasonAndDetail.isEmpty()) {
            return;
        }
        java.util.List<Long> ids = new java.util.ArrayList<>(reasonAndDetail.keySet());
        java.util.List<String> reasons = ids.stream().map(id -> reasonAndDetail.get(id)[0]).toList();
        java.util.List<String> details = ids.stream().map(id -> reasonAndDetail.get(id)[1]).toList();
        java.util.List<String> times = ids.stream().map(id -> until.get(id).toString()).toList();
        // one statement for all names: a big run may hold tens of thousands
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c, """
                UPDATE domain d SET state = 'held', reason_code = h.reason, reason_detail = h.detail,
                       next_attempt_at = h.until::timestamptz, updated_at = now()
                FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[]) AS h(id, reason, detail, until)
                WHERE d.id = h.id AND d.state = 'pending'""",
                Jdbc.LongArray.of(ids), Jdbc.TextArray.of(reasons), Jdbc.TextArray.of(details),
                Jdbc.TextArray.of(times))));
    }
}
