package io.certfleet.pipeline;

import io.certfleet.acme.AuthorizationState;
import io.certfleet.model.BatchTransition.Reason;
import io.certfleet.model.CaEnvironment;
import io.certfleet.store.BatchStore;

import java.net.URL;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The challenges this process triggered, to tell a name's own validation failure from one that was ours. A CA
 * validates within moments of the trigger; if the process that triggered died in between (kill -9, out of memory,
 * a host restart), nobody answered the CA's connection and the authorization is invalid with a {@code connection}
 * problem through no fault of the name. Only the process that triggered a challenge knows its responder was up
 * from then on; any other process sees such a failure as unverified.
 */
final class Triggers {
    /**
     * Unverified failures of one name retried in a row before the next is blamed: several kills in a row can each
     * cut off a validation of the same name, while a name failing on its own is blamed as soon as a live process
     * triggered its challenge.
     */
    static final int RETRIES_IN_A_ROW = 3;

    /** Authorization URLs whose challenge this process triggered and whose end it has not seen yet. */
    private final Set<String> here = ConcurrentHashMap.newKeySet();

    /** What to do with the members whose authorizations turned invalid. */
    record Verdict(Map<Long, Reason> blamed, Map<Long, Reason> retried) {
    }

    /** Called just before this process triggers the challenge of {@code authorization}. */
    void triggering(URL authorization) {
        here.add(authorization.toString());
    }

    /** The authorization became valid or invalid: nothing more to remember. */
    void ended(URL authorization) {
        here.remove(authorization.toString());
    }

    /**
     * Blames every invalid member except an unverified {@code connection} failure (a challenge this process did not
     * trigger), which is retried in the next order up to {@link #RETRIES_IN_A_ROW} times in a row: a
     * member that {@code retriedBefore} reports (that many failures retried and not validated since) is blamed.
     *
     * @param invalid the reason of each invalid member
     * @param failed the invalid authorization of each of those members
     * @param retriedBefore which of the given members were retried {@link #RETRIES_IN_A_ROW} times already
     */
    Verdict judge(CaEnvironment env, Map<Long, Reason> invalid, Map<Long, AuthorizationState> failed,
                  Function<Collection<Long>, Set<Long>> retriedBefore) {
        Map<Long, Reason> blamed = new HashMap<>(invalid);
        Map<Long, Reason> retried = new HashMap<>();
        List<Long> unverified = failed.entrySet().stream().filter(e -> !here.contains(e.getValue().url().toString())
                && e.getValue().error().filter(p -> p.type().equals(Reasons.PREFIX + "connection")).isPresent())
                .map(Map.Entry::getKey).toList();
        Set<Long> before = unverified.isEmpty() ? Set.of() : retriedBefore.apply(unverified);
        for (long id : unverified) {
            if (!before.contains(id) && invalid.containsKey(id)) {
                blamed.remove(id);
                retried.put(id, new Reason(BatchStore.RETRIED, invalid.get(id).detail()
                        + " (an earlier certfleet process triggered the " + env.wire() + " challenge and may have "
                        + "stopped before the CA connected; ordered again)"));
            }
        }
        failed.values().forEach(a -> ended(a.url()));
        return new Verdict(blamed, retried);
    }
}
