package io.certfleet.store;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.RenewalWindow;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The local rate-limit ledger: what was spent at the CA inside each limit's window, from {@code ca_event} and
 * {@code certificate}. Reads return the times of the spends, so the caller can tell when a window frees. */
public final class LedgerStore {
    private final Store store;

    public LedgerStore(Store store) {
        this.store = store;
    }

    /** New orders placed by an account inside the window, and when the oldest of them leaves it. */
    public record Spent(long count, Optional<Instant> oldest) {
    }

    /** New orders placed by an account inside the window; orders exempt from the CA's limits (ARI) do not count. */
    public Spent newOrders(CaEnvironment env, long accountId, Instant now, Duration window) {
        List<Instant> t = newOrderTimes(env, accountId, now, window);
        return new Spent(t.size(), t.stream().min(Instant::compareTo));
    }

    /** The times of the account's new orders inside the window, oldest first (ARI-exempt orders left out). */
    public List<Instant> newOrderTimes(CaEnvironment env, long accountId, Instant now, Duration window) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.query(c, """
                SELECT occurred_at FROM ca_event WHERE environment = ? AND account_id = ? AND request = 'NEW_ORDER'
                  AND outcome = 'ok' AND NOT limits_exempt AND occurred_at > ? ORDER BY occurred_at""",
                rs -> rs.getTimestamp(1).toInstant(), env.wire(), accountId, now.minus(window))));
    }

    /** Issue times of production certificates inside the window per registered domain among {@code registeredDomains}. */
    public Map<String, List<Instant>> certificatesByRegisteredDomain(Collection<String> registeredDomains, Instant now,
                                                                     Duration window) {
        if (registeredDomains.isEmpty()) {
            return Map.of();
        }
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Map<String, List<Instant>> out = new HashMap<>();
            Jdbc.query(c, """
                    SELECT DISTINCT d.registered_domain, x.id, x.created_at FROM certificate x
                    JOIN certificate_name cn ON cn.certificate_id = x.id JOIN domain d ON d.id = cn.domain_id
                    WHERE x.environment = 'production' AND x.created_at > ? AND d.registered_domain = ANY(?)""",
                    rs -> out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getTimestamp(3).toInstant()),
                    now.minus(window), Jdbc.TextArray.of(registeredDomains));
            return out;
        }));
    }

    /**
     * Issue times of production certificates inside the window per exact set of names, for the certificates holding
     * any of the domains; the key is the set's names sorted (byte order) and comma-joined, as {@code Budget.setKey}
     * makes it. (Found through {@code certificate_name}'s index: a set can only match certificates holding its names.)
     */
    public Map<String, List<Instant>> certificatesBySet(Collection<Long> domainIds, Instant now, Duration window) {
        if (domainIds.isEmpty()) {
            return Map.of();
        }
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Map<String, List<Instant>> out = new HashMap<>();
            Jdbc.query(c, """
                    SELECT (SELECT string_agg(n, ',' ORDER BY n COLLATE "C") FROM unnest(x.names) n) AS set_key, x.created_at
                    FROM certificate x
                    WHERE x.environment = 'production' AND x.created_at > ? AND x.id IN (
                        SELECT cn.certificate_id FROM certificate_name cn WHERE cn.domain_id = ANY(?))""",
                    rs -> out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getTimestamp(2).toInstant()),
                    now.minus(window), Jdbc.LongArray.of(domainIds));
            return out;
        }));
    }

    /** When authorizations of each of {@code identifiers} failed for the account inside the window. */
    public Map<String, List<Instant>> failedAuthorizations(CaEnvironment env, long accountId,
                                                           Collection<String> identifiers, Instant now,
                                                           Duration window) {
        if (identifiers.isEmpty()) {
            return Map.of();
        }
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Map<String, List<Instant>> out = new HashMap<>();
            Jdbc.query(c, """
                    SELECT i, e.occurred_at FROM ca_event e CROSS JOIN LATERAL unnest(e.identifiers) i
                    WHERE e.environment = ? AND e.account_id = ? AND e.request = 'AUTHORIZATION' AND e.outcome = 'invalid'
                      AND e.occurred_at > ? AND i = ANY(?)""",
                    rs -> out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getTimestamp(2).toInstant()),
                    env.wire(), accountId, now.minus(window), Jdbc.TextArray.of(identifiers));
            return out;
        }));
    }

    /** The registered domain of each of the domains that has one. */
    public Map<Long, String> registeredDomains(Collection<Long> domainIds) {
        if (domainIds.isEmpty()) {
            return Map.of();
        }
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Map<Long, String> out = new HashMap<>();
            Jdbc.query(c, "SELECT id, registered_domain FROM domain WHERE id = ANY(?) AND registered_domain IS NOT NULL",
                    rs -> out.put(rs.getLong(1), rs.getString(2)), Jdbc.LongArray.of(domainIds));
            return out;
        }));
    }

    /**
     * For each domain, the CA's ARI window of an unexpired production certificate holding it that a renewal may
     * replace: not replaced by a newer certificate of ours, and not the {@code replaces} of an order the CA may
     * still hold. Certificates issued while the CA offered no ARI have no window and are left out.
     */
    public Map<Long, RenewalWindow> replaceableWindows(Collection<Long> domainIds, Instant now) {
        if (domainIds.isEmpty()) {
            return Map.of();
        }
        return store.inTransaction(s -> s.doReturningWork(c -> {
            Map<Long, RenewalWindow> out = new HashMap<>();
            Jdbc.query(c, """
                    SELECT cn.domain_id, x.ari_window_start, x.ari_window_end FROM certificate x
                    JOIN certificate_name cn ON cn.certificate_id = x.id
                    WHERE x.environment = 'production' AND x.replaced_by_id IS NULL AND x.not_after > ?
                      AND x.ari_window_start IS NOT NULL AND x.ari_window_end IS NOT NULL AND cn.domain_id = ANY(?)
                      AND NOT EXISTS (SELECT 1 FROM batch o WHERE o.replaces_certificate_id = x.id
                                      AND o.state IN ('ordered', 'authorizing', 'finalizing', 'issued'))""",
                    rs -> out.put(rs.getLong(1), new RenewalWindow(rs.getTimestamp(2).toInstant(),
                            rs.getTimestamp(3).toInstant(), Optional.empty())), now, Jdbc.LongArray.of(domainIds));
            return out;
        }));
    }

    /**
     * Holds names back: {@code held} with the reason and the earliest time they can go. Names in an open batch,
     * issued or removed names are left alone.
     */
    public void hold(Map<Long, String[]> reasonAndDetail, Map<Long, Instant> until) {
        if (reasonAndDetail.isEmpty()) {
            return;
        }
        List<Long> ids = new ArrayList<>(reasonAndDetail.keySet());
        List<String> reasons = ids.stream().map(id -> reasonAndDetail.get(id)[0]).toList();
        List<String> details = ids.stream().map(id -> reasonAndDetail.get(id)[1]).toList();
        List<String> times = ids.stream().map(id -> until.get(id).toString()).toList();
        // one statement for all names: a big run may hold tens of thousands
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c, """
                UPDATE domain d SET state = 'held', reason_code = h.reason, reason_detail = h.detail,
                       next_attempt_at = h.until::timestamptz, updated_at = now()
                FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[]) AS h(id, reason, detail, until)
                WHERE d.id = h.id AND d.state IN ('pending', 'held', 'quarantined')
                  AND NOT EXISTS (SELECT 1 FROM batch_member m WHERE m.domain_id = d.id AND m.active)""",
                Jdbc.LongArray.of(ids), Jdbc.TextArray.of(reasons), Jdbc.TextArray.of(details),
                Jdbc.TextArray.of(times))));
    }
}
