package io.certfleet.caa;

import java.util.List;
import java.util.Optional;

/**
 * Boulder's {@code selectCAA}: scan the answers from the full name towards the TLD; a failure before the first
 * level with records fails the check; the first level with records of any tag is the relevant set and failures
 * above it are ignored; nothing anywhere and no failures means no CAA.
 */
final class CaaSelection {

    /** The deciding level: a failure, a relevant set, or empty when there is no CAA at all. */
    record Selected(LevelAnswer answer) {
        boolean failed() {
            return answer.isFailed();
        }
    }

    private CaaSelection() {
    }

    /** @param levels answers ordered from the full name to the TLD */
    static Optional<Selected> select(List<LevelAnswer> levels) {
        for (LevelAnswer a : levels) {
            if (a.isFailed() || a.hasRecords()) {
                return Optional.of(new Selected(a));
            }
        }
        return Optional.empty();
    }
}
