package io.certfleet.app;

import io.certfleet.store.HousekeepingStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/** The housekeeping task: drops expired HTTP-01 tokens and CA events past the ledger's retention. */
final class Housekeeping implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Housekeeping.class);
    static final Duration EVENT_RETENTION = Duration.ofDays(90);

    private final HousekeepingStore store;
    private final Clock clock;

    Housekeeping(HousekeepingStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    @Override
    public void run() {
        Instant now = clock.instant();
        int tokens = store.deleteExpiredTokens(now);
        int events = store.deleteEventsBefore(now.minus(EVENT_RETENTION));
        if (tokens + events > 0) {
            log.info("housekeeping: deleted {} expired HTTP-01 token(s) and {} CA event(s) older than {} days",
                    tokens, events, EVENT_RETENTION.toDays());
        }
    }
}
