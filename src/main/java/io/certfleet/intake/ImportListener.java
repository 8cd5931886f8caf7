package io.certfleet.intake;

/** Receives each rejection as it is found and progress every few thousand lines. */
public interface ImportListener {
    void rejected(Rejection rejection);

    default void progress(long linesRead, long added) {
    }

    ImportListener NONE = r -> {
    };
}
