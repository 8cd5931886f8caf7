package io.certfleet.caa;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An {@code issue}/{@code issuewild} value parsed as Boulder's {@code parseCAARecord} does: an issuer domain and
 * {@code tag=value} parameters (RFC 8659 §4.2). Parameters keep their order and duplicates, because a duplicated
 * {@code accounturi} or {@code validationmethods} must make the record unmatchable.
 */
record CaaValue(String issuerDomain, List<Parameter> parameters) {

    record Parameter(String tag, String value) {
    }

    private static final Pattern PARAM_TAG = Pattern.compile("[A-Za-z0-9]*");
    private static final Pattern PARAM_VALUE = Pattern.compile("[\\x21-\\x3A\\x3C-\\x7E]*");

    CaaValue {
        parameters = List.copyOf(parameters);
    }

    /** Parses a value; empty when it is malformed (such a record can never authorise). */
    static Optional<CaaValue> parse(String value) {
        String[] parts = value.split(";", -1);
        String issuer = trim(parts[0]);
        if (parts.length == 1) {
            return Optional.of(new CaaValue(issuer, List.of()));
        }
        // A bare ';' straight after the issuer, with nothing after it, is fine.
        if (parts.length == 2 && trim(parts[1]).isEmpty()) {
            return Optional.of(new CaaValue(issuer, List.of()));
        }
        List<Parameter> params = new ArrayList<>();
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i];
            int eq = part.indexOf('=');
            if (eq < 0) {
                return Optional.empty();
            }
            String tag = trim(part.substring(0, eq));
            String val = trim(part.substring(eq + 1));
            if (!PARAM_TAG.matcher(tag).matches() || !PARAM_VALUE.matcher(val).matches()) {
                return Optional.empty();
            }
            params.add(new Parameter(tag, val));
        }
        return Optional.of(new CaaValue(issuer, params));
    }

    List<String> values(String tag) {
        return parameters.stream().filter(p -> p.tag().equals(tag)).map(Parameter::value).toList();
    }

    private static String trim(String s) {
        int b = 0;
        int e = s.length();
        while (b < e && (s.charAt(b) == ' ' || s.charAt(b) == '\t')) {
            b++;
        }
        while (e > b && (s.charAt(e - 1) == ' ' || s.charAt(e - 1) == '\t')) {
            e--;
        }
        return s.substring(b, e);
    }
}
