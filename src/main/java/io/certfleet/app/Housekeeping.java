package io.certfleet.app;

import io.certfleet.store.HistoryStore;
import io.certfleet.store.HousekeepingStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The housekeeping task: drops expired HTTP-01 tokens, CA events past the ledger's retention and ended 429 waits,
 * samples the fleet by state and reason for {@code certfleet report}, and drops samples and runs past their retention.
 */
final class Housekeeping implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Housekeeping.class);
    static final Duration EVENT_RETENTION = Duration.ofDays(90);
    static final Duration HISTORY_RETENTION = Duration.ofDays(90);

    private final HousekeepingStore store;
    private final HistoryStore history;
    private final Clock clock;

    Housekeeping(HousekeepingStore store, HistoryStore history, Clock clock) {
        this.store = store;
        this.history = history;
        this.clock = clock;
    }

    @Override
    public void run() {
        Instant now = clock.instant();
        int tokens = store.deleteExpiredTokens(now);
        int events = store.deleteEventsBefore(now.minus(EVENT_RETENTION));
        // an ended wait no longer holds anything; a day of history helps an operator reading why a name waited
        int waits = store.deleteWaitsEndedBefore(now.minus(Duration.ofDays(1)));
        if (tokens + events + waits > 0) {
            log.info("housekeeping: deleted {} expired HTTP-01 token(s), {} CA event(s) older than {} days and {} "
                    + "ended 429 wait(s)", tokens, events, EVENT_RETENTION.toDays(), waits);
        }
        history.sample(now);
        int old = history.deleteBefore(now.minus(HISTORY_RETENTION));
        if (old > 0) {
            log.info("housekeeping: deleted {} fleet history row(s) older than {} days", old, HISTORY_RETENTION.toDays());
        }
    }
}
