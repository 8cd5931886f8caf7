package io.certfleet.model;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What DNS said at the level where the verdict was decided.
 *
 * @param rcode       the response code at that level ({@code NOERROR}, {@code SERVFAIL}, …); empty when no
 *                    answer came back (timeout, transport error) or no query was made
 * @param ede         Extended DNS Error (RFC 8914) text from the resolver, e.g. {@code "6 DNSSEC Bogus: …"}
 * @param records     the relevant CAA records as presentation text ({@code 0 issue "letsencrypt.org"}), in the
 *                    order received; CNAMEs followed to reach them appear too
 * @param resolver    the resolver that gave the deciding answer, {@code ip:port}; empty when none did
 * @param nameservers the nameserver sweep's answers (empty unless the sweep ran)
 */
public record PrecheckEvidence(Optional<String> rcode, Optional<String> ede, List<String> records,
                               Optional<String> resolver, List<NameserverAnswer> nameservers) {
    public static final PrecheckEvidence NONE =
            new PrecheckEvidence(Optional.empty(), Optional.empty(), List.of(), Optional.empty(), List.of());

    public PrecheckEvidence {
        Objects.requireNonNull(rcode);
        Objects.requireNonNull(ede);
        Objects.requireNonNull(resolver);
        records = List.copyOf(records);
        nameservers = List.copyOf(nameservers);
    }

    /** A copy with the sweep's answers attached. */
    public PrecheckEvidence withNameservers(List<NameserverAnswer> answers) {
        return new PrecheckEvidence(rcode, ede, records, resolver, answers);
    }
}
