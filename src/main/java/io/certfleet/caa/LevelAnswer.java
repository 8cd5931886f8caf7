package io.certfleet.caa;

import io.certfleet.model.PrecheckEvidence;
import io.certfleet.model.PrecheckReason;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The classified CAA answer for one level of the climb: records, nothing, or a failure with its reason.
 *
 * @param name        the level that was asked about
 * @param status      records, empty (NOERROR-empty or NXDOMAIN below the TLD) or failed
 * @param rcode       the rcode received; empty when nothing came back
 * @param ede         Extended DNS Error text, when the resolver sent one
 * @param caa         the CAA records in the answer (including those at the end of a CNAME chain)
 * @param texts       every answer record as text (CNAMEs and CAAs), for evidence
 * @param server      the resolver that answered (or was last tried), {@code ip:port}
 * @param failure     the failure reason when {@code status == FAILED}
 * @param failureText what went wrong, as a clause ("nameserver answered SERVFAIL")
 */
record LevelAnswer(String name, Status status, Optional<String> rcode, Optional<String> ede, List<CaaProperty> caa,
                   List<String> texts, Optional<String> server, Optional<PrecheckReason> failure,
                   String failureText) {

    enum Status { RECORDS, EMPTY, FAILED }

    LevelAnswer {
        Objects.requireNonNull(name);
        Objects.requireNonNull(status);
        caa = List.copyOf(caa);
        texts = List.copyOf(texts);
        if ((status == Status.FAILED) != failure.isPresent()) {
            throw new IllegalArgumentException("a failure reason goes with FAILED only");
        }
    }

    static LevelAnswer records(String name, String rcode, List<CaaProperty> caa, List<String> texts,
                               Optional<String> server) {
        return new LevelAnswer(name, caa.isEmpty() ? Status.EMPTY : Status.RECORDS, Optional.of(rcode),
                Optional.empty(), caa, texts, server, Optional.empty(), "");
    }

    static LevelAnswer failed(String name, PrecheckReason reason, Optional<String> rcode, Optional<String> ede,
                              Optional<String> server, String failureText) {
        return new LevelAnswer(name, Status.FAILED, rcode, ede, List.of(), List.of(), server, Optional.of(reason),
                failureText);
    }

    boolean isFailed() {
        return status == Status.FAILED;
    }

    boolean hasRecords() {
        return status == Status.RECORDS;
    }

    PrecheckEvidence evidence() {
        return new PrecheckEvidence(rcode, ede, texts, server, List.of());
    }
}
