package io.certfleet.pipeline;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.PrecheckRun;

import java.util.List;

/**
 * Pre-checks identifiers for one environment (its account URI matters for CAA {@code accounturi}). Both methods are
 * abstract on purpose: a wrapper must pass each on to its own counterpart, or the recheck would silently take the
 * admission's stricter rule.
 */
public interface Prechecker {

    /** Before names are packed: for production, their CAA must also let the staging rehearsal's account issue. */
    PrecheckRun check(List<String> identifiers, CaEnvironment environment);

    /**
     * Just before a production finalize: the rehearsal is behind these names, so only the environment's own
     * account matters (Let's Encrypt rechecks CAA for it alone).
     */
    PrecheckRun recheck(List<String> identifiers, CaEnvironment environment);
}
