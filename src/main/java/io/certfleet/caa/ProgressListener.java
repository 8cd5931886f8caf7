package io.certfleet.caa;

import java.time.Duration;

/** Hears about a run's progress after each name; called from resolver threads, so it must be quick and safe. */
@FunctionalInterface
public interface ProgressListener {

    ProgressListener NONE = p -> { };

    /**
     * @param done           names finished so far
     * @param total          names in the run
     * @param blocked        blocked so far
     * @param atRisk         at-risk so far
     * @param namesPerSecond rate since the run started
     * @param elapsed        time since the run started
     */
    record Progress(int done, int total, int blocked, int atRisk, double namesPerSecond, Duration elapsed) {
    }

    void onProgress(Progress progress);
}
