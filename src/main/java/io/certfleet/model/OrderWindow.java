package io.certfleet.model;

import java.time.Instant;
import java.util.Optional;

/**
 * When new ACME orders may start. The daemon's nightly window ({@code schedule.cron} plus {@code schedule.window})
 * closes the door on new orders in the morning; batches already ordered still finish.
 */
@FunctionalInterface
public interface OrderWindow {
    /** New orders may start at any time ({@code run --once}, tools, tests). */
    OrderWindow ALWAYS_OPEN = now -> Optional.empty();

    /** Empty when a new order may start at {@code now}; otherwise the time the window next opens. */
    Optional<Instant> closedUntil(Instant now);
}
