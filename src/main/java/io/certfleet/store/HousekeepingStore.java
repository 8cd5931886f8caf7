package io.certfleet.store;

import java.time.Instant;

/** Deletes what has outlived its use: expired HTTP-01 tokens, CA events older than the ledger needs, ended 429 waits. */
public final class HousekeepingStore {
    private final Store store;

    public HousekeepingStore(Store store) {
        this.store = store;
    }

    /** @return how many expired tokens were deleted */
    public int deleteExpiredTokens(Instant now) {
        return store.inTransaction(s -> s.createMutationQuery("delete from Http01TokenEntity t where t.expiresAt < :now")
                .setParameter("now", now).executeUpdate());
    }

    /** @return how many CA events older than {@code before} were deleted */
    public int deleteEventsBefore(Instant before) {
        return store.inTransaction(s -> s.createMutationQuery("delete from CaEventEntity e where e.occurredAt < :before")
                .setParameter("before", before).executeUpdate());
    }

    /** @return how many of the CA's 429 waits that ended before {@code before} were deleted */
    public int deleteWaitsEndedBefore(Instant before) {
        return new LimitStore(store).deleteWaitsEndedBefore(before);
    }
}
