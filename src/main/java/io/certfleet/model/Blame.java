package io.certfleet.model;

import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Which members of an order a CA problem blames, and what the attribution rests on. An empty set means the CA
 * named nobody (or only names outside the order): the caller cannot tell which name is at fault and must bisect.
 */
public record Blame(SortedSet<String> names, Basis basis) {

    /** Where the blamed names were read from. */
    public enum Basis {
        /** {@code identifier} fields of the problem or its subproblems. */
        IDENTIFIERS,
        /** Names recognised in the detail text by one of the known Boulder wordings. */
        DETAIL_TEXT,
        /** Nothing that names a member. */
        NONE
    }

    public Blame {
        Objects.requireNonNull(basis, "basis");
        names = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(names));
        if (names.isEmpty() != (basis == Basis.NONE)) {
            throw new IllegalArgumentException("basis " + basis + " does not fit " + names.size() + " names");
        }
    }

    public static Blame nobody() {
        return new Blame(new TreeSet<>(), Basis.NONE);
    }

    public static Blame of(Set<String> names, Basis basis) {
        return names.isEmpty() ? nobody() : new Blame(new TreeSet<>(names), basis);
    }

    /** True when no member is blamed: bisect to find the culprit. */
    public boolean namesNobody() {
        return names.isEmpty();
    }
}
