package io.certfleet.intake;

/**
 * An input line that was not imported: its 1-based line number, the input as read (shortened and with control
 * characters escaped, for printing), a machine-readable cause and a sentence saying what is wrong.
 */
public record Rejection(long line, String input, String cause, String detail) {
    @Override
    public String toString() {
        return "line " + line + ": " + input + ": " + detail + " [" + cause + "]";
    }
}
