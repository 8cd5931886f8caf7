package io.certfleet.model;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** Where a batch (one order at the CA, or one planned) stands; stored as the lower-case {@link #wire()} name. */
public enum BatchState {
    /** No order yet. */
    PLANNED,
    /** Order created; its URL is stored. */
    ORDERED,
    /** Challenges published and triggered; waiting for the CA to validate. */
    AUTHORIZING,
    /** CSR sent; waiting for the certificate. */
    FINALIZING,
    /** Staging rehearsal succeeded; a production batch with the same names was created. */
    CLEARED,
    /** Production certificate stored. */
    ISSUED,
    /** The CA blamed names; they were quarantined and the rest went on in a child batch. */
    FAILED,
    /** Failed without naming anybody; bisection probes are its children. */
    SPLIT,
    /** A bisection probe that cleared but whose names went on in a larger set. */
    SUPERSEDED,
    /** Given up after too many attempts; its names went back to the queue. */
    ABANDONED;

    public static final Set<BatchState> OPEN = EnumSet.of(PLANNED, ORDERED, AUTHORIZING, FINALIZING);

    public boolean isOpen() {
        return OPEN.contains(this);
    }

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static BatchState fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
