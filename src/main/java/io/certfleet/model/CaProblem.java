package io.certfleet.model;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An RFC 8555 problem document as the CA sent it, free of any client library's types: the full {@code type} URN,
 * the {@code detail} text (empty when absent), the {@code identifier} value it concerns if it names one, and its
 * subproblems. Kept verbatim so attribution and operators see exactly what the CA said.
 */
public record CaProblem(String type, String detail, Optional<String> identifier, List<CaProblem> subproblems) {

    public static final String ACME_ERROR_PREFIX = "urn:ietf:params:acme:error:";

    public CaProblem {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(identifier, "identifier");
        subproblems = List.copyOf(subproblems);
    }

    /** A problem of an ACME error type ({@code "caa"} becomes {@code urn:ietf:params:acme:error:caa}). */
    public static CaProblem of(String acmeType, String detail) {
        return new CaProblem(acmeType.contains(":") ? acmeType : ACME_ERROR_PREFIX + acmeType, detail,
                Optional.empty(), List.of());
    }

    /** The type without the ACME error namespace, e.g. {@code rejectedIdentifier}; other URNs are returned whole. */
    public String shortType() {
        return type.startsWith(ACME_ERROR_PREFIX) ? type.substring(ACME_ERROR_PREFIX.length()) : type;
    }

    public boolean isType(String acmeShortType) {
        return shortType().equals(acmeShortType);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(shortType()).append(": ").append(detail);
        identifier.ifPresent(i -> sb.append(" [").append(i).append(']'));
        for (CaProblem sub : subproblems) {
            sb.append("; ").append(sub);
        }
        return sb.toString();
    }
}
