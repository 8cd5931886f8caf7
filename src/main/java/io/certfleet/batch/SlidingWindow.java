package io.certfleet.batch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A limit of {@code limit} events per {@code window}, counted over a sliding window from the times the ledger
 * recorded. Let's Encrypt's limits are token buckets that refill gradually; a sliding window is never more lenient
 * than the bucket (a bucket of capacity N refilled at N per window has at least as many tokens as a window has
 * room), so keeping to it keeps to the CA's limit. Pure: the caller supplies the time.
 */
public final class SlidingWindow {
    private SlidingWindow() {
    }

    /** Events inside the window ending at {@code now}, oldest first. */
    static List<Instant> inside(Collection<Instant> events, Duration window, Instant now) {
        Instant from = now.minus(window);
        List<Instant> in = new ArrayList<>();
        for (Instant t : events) {
            if (t.isAfter(from)) {
                in.add(t);
            }
        }
        in.sort(null);
        return in;
    }

    /** How many more events fit in the window now (0 when it is full or over). */
    public static long left(Collection<Instant> events, long limit, Duration window, Instant now) {
        return Math.max(0, limit - inside(events, window, now).size());
    }

    /**
     * The earliest time one more event fits: {@code now} when there is room, else when enough of the oldest
     * events have left the window to bring the count below the limit.
     */
    public static Instant freeAt(Collection<Instant> events, long limit, Duration window, Instant now) {
        if (limit < 1) {
            throw new IllegalArgumentException("a limit must allow at least one event, not " + limit);
        }
        List<Instant> in = inside(events, window, now);
        if (in.size() < limit) {
            return now;
        }
        // the count must fall to limit - 1: the (size - limit + 1)-th oldest event has to leave
        int index = (int) Math.min(in.size() - 1, Math.max(0, in.size() - limit));
        Instant t = in.get(index).plus(window);
        return t.isAfter(now) ? t : now;
    }
}
