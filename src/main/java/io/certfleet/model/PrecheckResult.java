package io.certfleet.model;

import java.util.Objects;
import java.util.Optional;

/**
 * The CAA pre-check's answer for one input.
 *
 * @param input     the input as given
 * @param name      the normalised name; empty when the input was invalid ({@link PrecheckReason#INVALID_NAME})
 * @param verdict   allowed, blocked or at-risk; always {@code reason.verdict()}
 * @param reason    the one reason code
 * @param level     the name (the input's own name or a parent) where the verdict was decided; empty when no level
 *                  decided it (invalid input, no CAA anywhere, degraded resolver)
 * @param detail    a message a support engineer can paste to the customer
 * @param evidence  what DNS answered at the deciding level
 * @param elapsedMs wall time spent on this name, in milliseconds
 */
public record PrecheckResult(String input, Optional<DomainName> name, PrecheckVerdict verdict, PrecheckReason reason,
                             Optional<String> level, String detail, PrecheckEvidence evidence, long elapsedMs) {
    public PrecheckResult {
        Objects.requireNonNull(input);
        Objects.requireNonNull(name);
        Objects.requireNonNull(verdict);
        Objects.requireNonNull(reason);
        Objects.requireNonNull(level);
        Objects.requireNonNull(detail);
        Objects.requireNonNull(evidence);
        if (reason.verdict() != verdict) {
            throw new IllegalArgumentException("reason " + reason + " comes with verdict " + reason.verdict()
                    + ", not " + verdict);
        }
    }

    /** A result whose verdict follows from its reason. */
    public static PrecheckResult of(String input, Optional<DomainName> name, PrecheckReason reason,
                                    Optional<String> level, String detail, PrecheckEvidence evidence, long elapsedMs) {
        return new PrecheckResult(input, name, reason.verdict(), reason, level, detail, evidence, elapsedMs);
    }

    /** The name the CA would see ({@code *.example.com} for a wildcard), or the raw input when it was invalid. */
    public String displayName() {
        return name.map(DomainName::identifier).orElse(input);
    }

    /** True when the resolver was degraded and this name was not really checked: keep it pending. */
    public boolean unchecked() {
        return reason == PrecheckReason.RESOLVER_DEGRADED;
    }
}
