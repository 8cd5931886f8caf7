package io.certfleet.challenge;

import io.certfleet.model.Http01Token;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A small cache of positive answers in front of the database: an entry lives for the TTL, never past the token's
 * own expiry, and is dropped at once by {@link #invalidate(String)}. Bounded: when full, expired entries are
 * purged and, if it is still full, the new answer is simply not cached.
 *
 * <p>A lookup that races with an invalidation must not put the old answer back: callers take a {@link #stamp()}
 * before reading the database and {@link #put} is refused when any invalidation happened since. Puts and
 * invalidations share one lock; hits take none.
 */
final class TokenCache {
    private record Entry(Http01Token token, Instant until) {
    }

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Duration ttl;
    private final int capacity;
    private final Object lock = new Object();
    private volatile long invalidations;

    TokenCache(Duration ttl, int capacity) {
        if (ttl.isNegative() || capacity < 0) {
            throw new IllegalArgumentException("cache TTL and capacity must not be negative: " + ttl + ", " + capacity);
        }
        this.ttl = ttl;
        this.capacity = capacity;
    }

    Optional<Http01Token> get(String token, Instant now) {
        Entry e = entries.get(token);
        if (e == null) {
            return Optional.empty();
        }
        if (!now.isBefore(e.until())) {
            entries.remove(token, e);
            return Optional.empty();
        }
        return Optional.of(e.token());
    }

    /** Take before reading the source; pass to {@link #put}. */
    long stamp() {
        return invalidations;
    }

    /** Caches {@code token} unless an invalidation happened since {@code stamp} or the cache is full. */
    void put(Http01Token token, long stamp, Instant now) {
        Instant until = now.plus(ttl);
        if (token.expiresAt().isBefore(until)) {
            until = token.expiresAt();
        }
        if (!now.isBefore(until)) {
            return;
        }
        synchronized (lock) {
            if (invalidations != stamp) {
                return;
            }
            if (entries.size() >= capacity) {
                entries.values().removeIf(e -> !now.isBefore(e.until()));
                if (entries.size() >= capacity) {
                    return;
                }
            }
            entries.put(token.token(), new Entry(token, until));
        }
    }

    void invalidate(String token) {
        synchronized (lock) {
            invalidations++;
            entries.remove(token);
        }
    }

    int size() {
        return entries.size();
    }
}
