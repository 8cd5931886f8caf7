package io.certfleet.batch;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What to do with a batch the CA refused, cheapest first:
 * <ul>
 *   <li>names were blamed: quarantine exactly those and order the rest again as one batch (their valid
 *   authorizations are reused, so the re-rehearsal is cheap);</li>
 *   <li>nobody was blamed and the batch has several names: split it into two stable halves (identifier order)
 *   and rehearse each, so k bad names cost about k·log2(n) extra orders;</li>
 *   <li>nobody was blamed and the batch has one name: that name is the culprit.</li>
 * </ul>
 *
 * @param quarantine names to quarantine
 * @param next       batches to order next (each non-empty; children of the failed batch)
 * @param bisected   true when {@code next} are the two halves of a bisection
 */
public record Isolation(Set<String> quarantine, List<List<String>> next, boolean bisected) {

    public Isolation {
        quarantine = java.util.Collections.unmodifiableSet(new TreeSet<>(quarantine));
        next = next.stream().map(List::copyOf).toList();
    }

    /**
     * @param members the failed batch's identifiers
     * @param blamed  the members the CA blamed (empty when it named nobody); names outside {@code members}
     *                are ignored
     */
    public static Isolation plan(List<String> members, Set<String> blamed) {
        List<String> sorted = new ArrayList<>(new TreeSet<>(members));
        Set<String> guilty = new TreeSet<>(blamed);
        guilty.retainAll(sorted);
        if (!guilty.isEmpty()) {
            List<String> rest = sorted.stream().filter(m -> !guilty.contains(m)).toList();
            return new Isolation(guilty, rest.isEmpty() ? List.of() : List.of(rest), false);
        }
        if (sorted.size() == 1) {
            return new Isolation(Set.of(sorted.get(0)), List.of(), false);
        }
        int half = (sorted.size() + 1) / 2;
        return new Isolation(Set.of(), List.of(sorted.subList(0, half), sorted.subList(half, sorted.size())), true);
    }

    /** Upper bound of orders the bisection of {@code n} names can spend to isolate one unattributable name. */
    public static int bisectionDepth(int n) {
        return n <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(n - 1);
    }

}
