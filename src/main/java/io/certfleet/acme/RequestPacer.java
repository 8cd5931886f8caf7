package io.certfleet.acme;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Spaces the HTTP requests to one CA evenly, across all sessions and threads, so certfleet stays under the CA's
 * per-IP request limit (Let's Encrypt staging: 20 requests/s on {@code /acme/*}) instead of collecting 503s.
 * Every request acquire()s a slot; slots are {@code 1/rate} apart.
 */
final class RequestPacer {
    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private long next;

    RequestPacer(double requestsPerSecond) {
        this(requestsPerSecond, System::nanoTime);
    }

    RequestPacer(double requestsPerSecond, LongSupplier nanoTime) {
        if (!(requestsPerSecond > 0)) {
            throw new IllegalArgumentException("requests per second must be positive, got " + requestsPerSecond);
        }
        this.intervalNanos = (long) (TimeUnit.SECONDS.toNanos(1) / requestsPerSecond);
        this.nanoTime = nanoTime;
        this.next = nanoTime.getAsLong();
    }

    /** Reserves the next slot; returns how long to wait for it (0 when it is now). */
    synchronized long reserve() {
        long now = nanoTime.getAsLong();
        long slot = Math.max(now, next);
        next = slot + intervalNanos;
        return slot - now;
    }

    /** Waits for the next slot. */
    void acquire() throws InterruptedException {
        long wait = reserve();
        long until = System.nanoTime() + wait;
        while (wait > 0) {
            LockSupport.parkNanos(wait);
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while pacing requests to the CA");
            }
            wait = until - System.nanoTime();
        }
    }
}
