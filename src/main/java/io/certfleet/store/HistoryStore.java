package io.certfleet.store;

import java.time.Instant;

/**
 * The fleet's history for {@code certfleet report}: samples of names by state and reason ({@code fleet_history}),
 * and one row per issuance run ({@code issuance_run}). Each write is one statement in its own transaction.
 */
public final class HistoryStore {
    private final Store store;

    public HistoryStore(Store store) {
        this.store = store;
    }

    /** Writes one sample of names by state and reason, taken at {@code at}; returns how many rows it wrote. */
    public int sample(Instant at) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c, """
                INSERT INTO fleet_history (taken_at, state, reason, count)
                SELECT ?::timestamptz, state, reason_code, count(*) FROM domain GROUP BY state, reason_code
                ON CONFLICT DO NOTHING""", at)));
    }

    /** Records that a run of {@code kind} ({@code once} or {@code nightly}) started; returns its id. */
    public long runStarted(String kind, String node, Instant at) {
        return store.inTransaction(s -> s.doReturningWork(c -> Jdbc.insertReturningId(c,
                "INSERT INTO issuance_run (kind, node, started_at) VALUES (?, ?, ?)", kind, node, at)));
    }

    /** Records that run {@code id} returned. */
    public void runEnded(long id, Instant at) {
        store.inTransaction(s -> s.doReturningWork(c -> Jdbc.update(c,
                "UPDATE issuance_run SET ended_at = ? WHERE id = ?", at, id)));
    }

    /** Deletes samples and runs that started before {@code before}; returns how many rows went. */
    public int deleteBefore(Instant before) {
        return store.inTransaction(s -> s.doReturningWork(c ->
                Jdbc.update(c, "DELETE FROM fleet_history WHERE taken_at < ?", before)
                        + Jdbc.update(c, "DELETE FROM issuance_run WHERE started_at < ?", before)));
    }
}
