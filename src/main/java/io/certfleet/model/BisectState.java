package io.certfleet.model;

import java.util.List;

/**
 * The state of a bisection search over a batch that failed without naming anybody (domain ids):
 * {@code verified} passed a probe together, {@code suspects} hold at least one culprit, {@code unknown} were set
 * aside untested. See {@code pipeline.Bisection}.
 */
public record BisectState(List<Long> verified, List<Long> suspects, List<Long> unknown) {
    public BisectState {
        verified = List.copyOf(verified);
        suspects = List.copyOf(suspects);
        unknown = List.copyOf(unknown);
    }
}
