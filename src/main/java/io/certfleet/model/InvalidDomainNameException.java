package io.certfleet.model;

import java.util.Objects;

/**
 * An input that is not a name certfleet can order. Carries the input and a machine-readable cause so a batch
 * import can report the line and go on.
 */
public final class InvalidDomainNameException extends Exception {

    /** Why a name was rejected; the codes appear in import reports and in {@code domain.reason_code}. */
    public enum Cause {
        EMPTY,
        EMPTY_LABEL,
        LABEL_TOO_LONG,
        NAME_TOO_LONG,
        INVALID_CHARACTER,
        INVALID_IDN,
        IP_ADDRESS,
        BARE_TLD,
        WILDCARD_POSITION
    }

    private final String input;
    private final Cause cause;

    public InvalidDomainNameException(String input, Cause cause, String detail) {
        super(describe(input) + ": " + detail);
        this.input = Objects.requireNonNull(input);
        this.cause = Objects.requireNonNull(cause);
    }

    public String input() {
        return input;
    }

    public Cause reason() {
        return cause;
    }

    /** The detail without the leading input, for reports that print the input in a column of their own. */
    public String detail() {
        String m = getMessage();
        int i = m.indexOf(": ");
        return i < 0 ? m : m.substring(i + 2);
    }

    private static String describe(String input) {
        if (input == null) {
            return "''";
        }
        String shown = input.length() > 80 ? input.substring(0, 77) + "..." : input;
        StringBuilder sb = new StringBuilder("'");
        shown.codePoints().forEach(cp -> {
            if (Character.isISOControl(cp)) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.append('\'').toString();
    }
}
