package io.certfleet.model;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A normalised DNS identifier as certfleet stores and orders it: IDNA A-labels, lower case, no trailing dot.
 * A wildcard keeps its base name in {@link #name()} and sets {@link #wildcard()}; {@link #identifier()} gives
 * the {@code *.}-prefixed form the CA sees.
 *
 * <p>{@link #parse(String)} applies the same rules Let's Encrypt's policy authority applies to a DNS identifier
 * (label and name lengths, LDH characters, no IP address, not a bare TLD, wildcard only as the whole left-most
 * label) and rejects anything else with an {@link InvalidDomainNameException} that carries a machine-readable
 * {@link InvalidDomainNameException.Cause} and the offending input.
 */
public record DomainName(String name, boolean wildcard) implements Comparable<DomainName> {

    public static final int MAX_NAME_OCTETS = 253;
    public static final int MAX_LABEL_OCTETS = 63;

    private static final Pattern LDH_LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]*[a-z0-9])?");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(?:\\.\\d{1,3}){3}");
    private static final Pattern ALL_NUMERIC_TLD = Pattern.compile("[0-9]+");

    public DomainName {
        Objects.requireNonNull(name, "name");
    }

    /** The identifier as sent to the CA: {@code *.example.com} for a wildcard, else the name. */
    public String identifier() {
        return wildcard ? "*." + name : name;
    }

    /** The name's parents from itself down to the TLD, each as a plain name (the CAA climb). */
    public java.util.List<String> selfAndParents() {
        var out = new java.util.ArrayList<String>();
        String n = name;
        while (true) {
            out.add(n);
            int dot = n.indexOf('.');
            if (dot < 0) {
                return out;
            }
            n = n.substring(dot + 1);
        }
    }

    @Override
    public int compareTo(DomainName o) {
        int c = name.compareTo(o.name);
        return c != 0 ? c : Boolean.compare(wildcard, o.wildcard);
    }

    @Override
    public String toString() {
        return identifier();
    }

    /**
     * Normalises one input: trims white space, lower-cases, strips one trailing dot, converts U-labels to A-labels
     * with UTS #46 non-transitional processing (IDNA2008; {@code straße.de} stays {@code xn--strae-oqa.de}) and
     * checks that {@code xn--} labels decode, then validates.
     *
     * @throws InvalidDomainNameException naming the input and the rule it breaks
     */
    public static DomainName parse(String input) throws InvalidDomainNameException {
        if (input == null) {
            throw new InvalidDomainNameException("", InvalidDomainNameException.Cause.EMPTY, "no name given");
        }
        String raw = input.strip();
        if (raw.isEmpty()) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.EMPTY, "the name is empty");
        }
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (Character.isISOControl(c) || Character.isWhitespace(c)) {
                throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.INVALID_CHARACTER,
                        String.format("control or white-space character U+%04X at position %d", (int) c, i + 1));
            }
        }
        String s = raw.endsWith(".") ? raw.substring(0, raw.length() - 1) : raw;
        boolean wildcard = false;
        if (s.startsWith("*.")) {
            wildcard = true;
            s = s.substring(2);
        }
        if (s.contains("*")) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.WILDCARD_POSITION,
                    "'*' is only allowed as the whole left-most label ('*.example.com')");
        }
        if (s.isEmpty()) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.EMPTY_LABEL,
                    "the name has no labels");
        }
        if (s.startsWith(".") || s.endsWith(".") || s.contains("..")) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.EMPTY_LABEL,
                    "the name contains an empty label (two dots in a row or a leading dot)");
        }
        if (IPV4.matcher(s).matches() || s.contains(":") || s.startsWith("[")) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.IP_ADDRESS,
                    "an IP address is not a DNS name");
        }
        String ascii = toAscii(input, s);
        String[] labels = ascii.split("\\.", -1);
        for (String label : labels) {
            checkLabel(input, label);
        }
        if (ascii.length() > MAX_NAME_OCTETS) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.NAME_TOO_LONG,
                    "the name is " + ascii.length() + " octets long; at most " + MAX_NAME_OCTETS + " are allowed");
        }
        if (labels.length < 2) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.BARE_TLD,
                    "a top-level domain alone cannot get a certificate");
        }
        if (ALL_NUMERIC_TLD.matcher(labels[labels.length - 1]).matches()) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.INVALID_CHARACTER,
                    "the top-level label '" + labels[labels.length - 1] + "' is all digits");
        }
        return new DomainName(ascii, wildcard);
    }

    private static String toAscii(String input, String s) throws InvalidDomainNameException {
        if (!Idna.needed(s)) {
            return s.toLowerCase(Locale.ROOT);
        }
        // UTS #46 non-transitional (IDNA2008), as browsers and the CA's clients convert: ß and ς stay themselves
        return Idna.toAscii(input, s);
    }

    private static void checkLabel(String input, String label) throws InvalidDomainNameException {
        if (label.isEmpty()) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.EMPTY_LABEL,
                    "the name contains an empty label");
        }
        if (label.length() > MAX_LABEL_OCTETS) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.LABEL_TOO_LONG,
                    "label '" + abbreviate(label) + "' is " + label.length() + " octets long; at most "
                            + MAX_LABEL_OCTETS + " are allowed");
        }
        if (!LDH_LABEL.matcher(label).matches()) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.INVALID_CHARACTER,
                    "label '" + abbreviate(label) + "' may hold only letters, digits and inner hyphens");
        }
        if (label.length() >= 4 && label.charAt(2) == '-' && label.charAt(3) == '-' && !label.startsWith("xn--")) {
            throw new InvalidDomainNameException(input, InvalidDomainNameException.Cause.INVALID_CHARACTER,
                    "label '" + label + "' has hyphens in positions 3 and 4 but is not an 'xn--' A-label");
        }
    }

    static String abbreviate(String label) {
        return label.length() <= 40 ? label : label.substring(0, 37) + "...";
    }
}
