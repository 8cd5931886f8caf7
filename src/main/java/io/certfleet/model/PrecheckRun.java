package io.certfleet.model;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One pre-check run over many inputs.
 *
 * @param results        one result per input, in input order
 * @param degraded       true when our own resolver was unhealthy (canary failed, or too many names timed out);
 *                       the names it could not check carry {@link PrecheckReason#RESOLVER_DEGRADED} and must stay
 *                       pending, never be refused
 * @param degradedReason why the run is degraded; empty when it is not
 * @param elapsedMs      wall time of the whole run
 */
public record PrecheckRun(List<PrecheckResult> results, boolean degraded, Optional<String> degradedReason,
                          long elapsedMs) {
    public PrecheckRun {
        results = List.copyOf(results);
        Objects.requireNonNull(degradedReason);
        if (degraded != degradedReason.isPresent()) {
            throw new IllegalArgumentException("degraded and degradedReason disagree");
        }
    }

    public Map<PrecheckVerdict, Integer> countsByVerdict() {
        Map<PrecheckVerdict, Integer> m = new EnumMap<>(PrecheckVerdict.class);
        for (PrecheckVerdict v : PrecheckVerdict.values()) {
            m.put(v, 0);
        }
        results.forEach(r -> m.merge(r.verdict(), 1, Integer::sum));
        return m;
    }

    public Map<PrecheckReason, Integer> countsByReason() {
        Map<PrecheckReason, Integer> m = new EnumMap<>(PrecheckReason.class);
        results.forEach(r -> m.merge(r.reason(), 1, Integer::sum));
        return m;
    }

    /** The results the run could not check because the resolver was degraded. */
    public List<PrecheckResult> unchecked() {
        return results.stream().filter(PrecheckResult::unchecked).toList();
    }

    /** True when every name is allowed. */
    public boolean allAllowed() {
        return results.stream().allMatch(r -> r.verdict() == PrecheckVerdict.ALLOWED);
    }
}
