package io.certfleet.caa;

import io.certfleet.model.PrecheckReason;
import org.xbill.DNS.CAARecord;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;
import org.xbill.DNS.dnssec.ValidatingResolver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Turns a CAA query's {@link Exchange} into a {@link LevelAnswer}, with Boulder's rcode rules (§1.3). */
final class AnswerClassifier {

    private AnswerClassifier() {
    }

    static LevelAnswer classifyCaa(String name, Exchange ex, Duration perTry) {
        Optional<String> server = Optional.of(ex.server());
        if (ex.timedOut()) {
            return LevelAnswer.failed(name, PrecheckReason.DNS_TIMEOUT, Optional.empty(), Optional.empty(), server,
                    "no answer came back after " + ex.tries() + " tr" + (ex.tries() == 1 ? "y" : "ies") + " of "
                            + seconds(perTry));
        }
        if (ex.response().isEmpty()) {
            String msg = ex.error().map(AnswerClassifier::describe).orElse("unknown error");
            return LevelAnswer.failed(name, PrecheckReason.DNS_OTHER, Optional.empty(), Optional.empty(), server,
                    "the query failed with a network error (" + msg + ")");
        }
        Message m = ex.response().get();
        int rc = m.getRcode();
        String rcode = Rcode.string(rc);
        Optional<String> ede = ede(m);
        if (m.getHeader().getFlag(Flags.TC)) {
            return LevelAnswer.failed(name, PrecheckReason.DNS_TRUNCATED, Optional.of(rcode), ede, server,
                    "the answer was truncated (TC bit) and Let's Encrypt does not retry over TCP");
        }
        switch (rc) {
            case Rcode.NOERROR:
                return records(name, m, rcode, server);
            case Rcode.NXDOMAIN:
                if (name.indexOf('.') >= 0) {
                    return records(name, m, rcode, server);
                }
                return LevelAnswer.failed(name, PrecheckReason.TLD_NXDOMAIN, Optional.of(rcode), ede, server,
                        "the top-level domain does not exist (NXDOMAIN)");
            case Rcode.SERVFAIL:
                Optional<String> bogus = bogusReason(m, ede);
                if (bogus.isPresent()) {
                    return LevelAnswer.failed(name, PrecheckReason.DNSSEC_BOGUS, Optional.of(rcode),
                            Optional.of(bogus.get()), server, "DNSSEC validation failed (" + bogus.get() + ")");
                }
                return LevelAnswer.failed(name, PrecheckReason.DNS_SERVFAIL, Optional.of(rcode), ede, server,
                        "the nameserver answered SERVFAIL" + ede.map(e -> " (" + e + ")").orElse(""));
            case Rcode.REFUSED:
                return LevelAnswer.failed(name, PrecheckReason.DNS_REFUSED, Optional.of(rcode), ede, server,
                        "the nameserver answered REFUSED");
            case Rcode.NOTIMP:
                return LevelAnswer.failed(name, PrecheckReason.DNS_NOTIMP, Optional.of(rcode), ede, server,
                        "the nameserver answered NOTIMP (it does not implement CAA queries)");
            case Rcode.FORMERR:
                return LevelAnswer.failed(name, PrecheckReason.DNS_FORMERR, Optional.of(rcode), ede, server,
                        "the nameserver answered FORMERR (it rejected the query, often its EDNS0 part)");
            default:
                return LevelAnswer.failed(name, PrecheckReason.DNS_OTHER, Optional.of(rcode), ede, server,
                        "the nameserver answered " + rcode);
        }
    }

    private static LevelAnswer records(String name, Message m, String rcode, Optional<String> server) {
        List<CaaProperty> caa = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (Record r : m.getSection(Section.ANSWER)) {
            if (r instanceof CAARecord c) {
                caa.add(new CaaProperty(c.getFlags(), c.getTag(), c.getValue()));
                texts.add(text(r));
            } else if (r.getType() == Type.CNAME || r.getType() == Type.DNAME) {
                texts.add(text(r));
            }
        }
        return LevelAnswer.records(name, rcode, caa, caa.isEmpty() ? List.of() : texts, server);
    }

    /** {@code owner TYPE rdata}, without TTL and class: stable evidence. */
    static String text(Record r) {
        return r.getName() + " " + Type.string(r.getType()) + " " + r.rdataToString();
    }

    static Optional<String> ede(Message m) {
        OPTRecord opt = m.getOPT();
        if (opt == null) {
            return Optional.empty();
        }
        for (EDNSOption o : opt.getOptions(EDNSOption.Code.EDNS_EXTENDED_ERROR)) {
            if (o instanceof ExtendedErrorCodeOption e) {
                String t = e.getText();
                return Optional.of(e.getErrorCode() + " " + ExtendedErrorCodeOption.text(e.getErrorCode())
                        + (t == null || t.isEmpty() ? "" : ": " + t));
            }
        }
        return Optional.empty();
    }

    /** The EDE codes of RFC 8914 that mean the data failed validation (6 DNSSEC Bogus … 12 NSEC Missing). */
    static boolean isBogusCode(int code) {
        return code >= ExtendedErrorCodeOption.DNSSEC_BOGUS && code <= ExtendedErrorCodeOption.NSEC_MISSING;
    }

    private static Optional<String> bogusReason(Message m, Optional<String> ede) {
        OPTRecord opt = m.getOPT();
        if (opt != null) {
            for (EDNSOption o : opt.getOptions(EDNSOption.Code.EDNS_EXTENDED_ERROR)) {
                if (o instanceof ExtendedErrorCodeOption e && isBogusCode(e.getErrorCode())) {
                    return ede;
                }
            }
        }
        // dnsjava's ValidatingResolver (our own validation) puts its reason in a TXT record of a private class.
        for (Record r : m.getSection(Section.ADDITIONAL)) {
            if (r.getDClass() == ValidatingResolver.VALIDATION_REASON_QCLASS) {
                return Optional.of("own validation: " + r.rdataToString().replace("\"", ""));
            }
        }
        return Optional.empty();
    }

    static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + " s" : ms + " ms";
    }

    private static String describe(Throwable t) {
        String msg = t.getMessage();
        return t.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }
}
