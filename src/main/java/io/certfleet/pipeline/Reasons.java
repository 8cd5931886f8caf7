package io.certfleet.pipeline;

import io.certfleet.model.BatchTransition;
import io.certfleet.model.CaProblem;

import java.util.Locale;

/** Reason codes for names the CA blamed: {@code CA_} plus the ACME problem type in upper snake case. */
final class Reasons {
    private Reasons() {
    }

    static final String PREFIX = "urn:ietf:params:acme:error:";

    static String code(String problemType) {
        String t = problemType.startsWith(PREFIX) ? problemType.substring(PREFIX.length()) : problemType;
        t = t.replaceAll("[^A-Za-z0-9]+", "_").replaceAll("([a-z0-9])([A-Z])", "$1_$2");
        return "CA_" + t.toUpperCase(Locale.ROOT);
    }

    static BatchTransition.Reason of(CaProblem p, String where) {
        return new BatchTransition.Reason(code(p.type()), where + ": " + p.detail());
    }

    /** Short form of a problem for logs and error columns. */
    static String brief(CaProblem p) {
        String d = p.detail();
        return code(p.type()) + ": " + (d.length() > 300 ? d.substring(0, 297) + "..." : d);
    }
}
