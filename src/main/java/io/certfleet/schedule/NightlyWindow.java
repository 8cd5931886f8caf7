package io.certfleet.schedule;

import io.certfleet.model.OrderWindow;
import org.quartz.CronExpression;

import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Date;
import java.util.Optional;
import java.util.TimeZone;

/**
 * The nightly order window: new orders may start from each firing of the nightly cron until {@code length} after
 * it. A window as long as the cron's period (for a daily cron, {@code PT24H}) is always open.
 */
public final class NightlyWindow implements OrderWindow {
    private final CronExpression cron;
    private final Duration length;
    private final String description;

    public NightlyWindow(String cronExpression, ZoneId zone, Duration length) {
        if (length.isNegative() || length.isZero()) {
            throw new IllegalArgumentException("the order window must be positive, got " + length);
        }
        try {
            this.cron = new CronExpression(cronExpression);
        } catch (ParseException e) {
            throw new IllegalArgumentException("not a Quartz cron expression: " + cronExpression, e);
        }
        this.cron.setTimeZone(TimeZone.getTimeZone(zone));
        this.length = length;
        this.description = "'" + cronExpression + "' (" + zone + ") + " + length;
    }

    @Override
    public Optional<Instant> closedUntil(Instant now) {
        // the first firing after (now - length) opened the current window when it is not later than now;
        // otherwise it is the next opening
        Date next;
        synchronized (cron) {
            next = cron.getTimeAfter(Date.from(now.minus(length)));
        }
        if (next == null) {
            // a cron that never fires again (a year in the past): the window stays shut; look again tomorrow
            return Optional.of(now.plus(Duration.ofDays(1)));
        }
        Instant opens = next.toInstant();
        return opens.isAfter(now) ? Optional.of(opens) : Optional.empty();
    }

    @Override
    public String toString() {
        return description;
    }
}
