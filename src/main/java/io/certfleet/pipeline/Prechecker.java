package io.certfleet.pipeline;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.PrecheckRun;

import java.util.List;

/** Pre-checks identifiers for one environment (its account URI matters for CAA {@code accounturi}). */
@FunctionalInterface
public interface Prechecker {
    PrecheckRun check(List<String> identifiers, CaEnvironment environment);
}
