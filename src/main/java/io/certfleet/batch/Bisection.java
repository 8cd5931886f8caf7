package io.certfleet.batch;

import io.certfleet.model.BisectState;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Finds a name that makes an order fail without the CA naming it, spending one staging order per halving and
 * ending with one order that holds every other name (so production still gets one certificate).
 *
 * <p>State: {@code verified} names passed a probe together; {@code suspects} hold at least one culprit;
 * {@code unknown} names were set aside untested. Each probe orders {@code verified ∪ firstHalf(suspects)}:
 * <ul>
 *   <li>it clears → that half is clean, the culprit is in the other half;</li>
 *   <li>it fails naming nobody → the culprit is in that half (the verified names are clean); the other half is set
 *   aside as unknown.</li>
 * </ul>
 * When one suspect is left it is the culprit — never a guess, because every step follows from a real outcome.
 * The other names go on together: the last cleared probe if nothing was set aside (then that probe, which holds
 * every name but the culprit, is the re-rehearsal and is promoted as it is), else one re-rehearsal of
 * {@code verified ∪ unknown}. If that fails again, a new search starts with {@code verified} already known, so
 * k culprits cost at most k·({@link #depth depth(n)} + 1) = k·(⌈log2 n⌉ + 1) staging orders besides the failed one.
 */
public final class Bisection {
    private Bisection() {
    }

    /** What to do next. */
    public sealed interface Next {
    }

    /** Order a probe of these ids; {@code suspectsTested} is the half of the suspects it tests. */
    public record Probe(List<Long> members, List<Long> suspectsTested, BisectState state) implements Next {
    }

    /**
     * The culprit is found. {@code rest} are the other names; {@code restCleared} says they already passed
     * together in the probe just finished (promote it), otherwise they need one re-rehearsal with
     * {@code verified} known.
     */
    public record Found(long culprit, List<Long> rest, List<Long> verified, boolean restCleared) implements Next {
    }

    /** Starts a search over a failed batch; {@code knownClean} are ids verified by an earlier search. */
    public static Next start(List<Long> members, List<Long> knownClean) {
        TreeSet<Long> v = new TreeSet<>(knownClean);
        v.retainAll(members);
        List<Long> c = members.stream().filter(m -> !v.contains(m)).sorted().toList();
        if (c.isEmpty()) {
            // everything was verified before, yet it failed: nothing is known, search all
            v.clear();
            c = members.stream().sorted().toList();
        }
        return next(new BisectState(List.copyOf(v), c, List.of()), false);
    }

    /** The probe that tested {@code suspectsTested} cleared. */
    public static Next probeCleared(BisectState s, List<Long> suspectsTested) {
        List<Long> verified = union(s.verified(), suspectsTested);
        List<Long> suspects = minus(s.suspects(), suspectsTested);
        return next(new BisectState(verified, suspects, s.unknown()), true);
    }

    /** The probe that tested {@code suspectsTested} failed without naming anybody. */
    public static Next probeFailed(BisectState s, List<Long> suspectsTested) {
        List<Long> setAside = minus(s.suspects(), suspectsTested);
        List<Long> suspects = new TreeSet<>(suspectsTested).stream().toList();
        return next(new BisectState(s.verified(), suspects, union(s.unknown(), setAside)), false);
    }

    private static Next next(BisectState s, boolean lastProbeCleared) {
        if (s.suspects().size() == 1) {
            long culprit = s.suspects().get(0);
            List<Long> rest = union(s.verified(), s.unknown());
            return new Found(culprit, rest, s.verified(), lastProbeCleared && s.unknown().isEmpty());
        }
        if (s.suspects().isEmpty()) {
            throw new IllegalStateException("bisection lost its suspects: " + s);
        }
        List<Long> sorted = s.suspects().stream().sorted().toList();
        List<Long> half = sorted.subList(0, sorted.size() / 2);
        return new Probe(union(s.verified(), half), List.copyOf(half), s);
    }

    private static List<Long> union(List<Long> a, List<Long> b) {
        TreeSet<Long> t = new TreeSet<>(a);
        t.addAll(b);
        return new ArrayList<>(t);
    }

    private static List<Long> minus(List<Long> a, List<Long> b) {
        TreeSet<Long> t = new TreeSet<>(a);
        b.forEach(t::remove);
        return new ArrayList<>(t);
    }

    /**
     * ⌈log2 n⌉: the most probes a search over {@code n} suspects orders before one suspect is left (a cleared probe
     * leaves the larger half). With the re-rehearsal of the other names that may follow, one culprit costs at most
     * {@code depth(n) + 1} staging orders after the failed order.
     */
    public static int depth(int n) {
        return n <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(n - 1);
    }

    /** Convenience for callers that keep an optional hint. */
    public static List<Long> knownClean(Optional<BisectState> hint) {
        return hint.map(BisectState::verified).orElse(List.of());
    }
}
