package io.certfleet.caa;

import io.certfleet.model.DomainName;
import io.certfleet.model.NameserverAnswer;
import io.certfleet.model.PrecheckReason;

import java.util.List;
import java.util.stream.Collectors;

/** The human detail messages: each names the subject, the level, what DNS said, and what the customer can do. */
final class Details {

    private Details() {
    }

    static String noCaa(DomainName n) {
        return "No CAA records at " + n.name() + " or any parent, and every lookup answered: the CA may issue for "
                + n.identifier() + ".";
    }

    static String evaluated(DomainName n, String level, CaaPolicy.Evaluation e, List<String> ids) {
        String at = level.equals(n.name()) ? level : level + " (a parent of " + n.name() + ")";
        String idText = String.join(" or ", ids);
        String recordTag = n.wildcard() ? "issuewild" : "issue";
        switch (e.reason()) {
            case CAA_PERMITS:
                return "CAA for " + n.identifier() + " is set at " + at + ": " + e.explanation() + ".";
            case CAA_NONE_APPLICABLE:
                return "CAA for " + n.identifier() + " is set at " + at + ", but " + e.explanation()
                        + ": the CA may issue.";
            case CAA_CRITICAL_UNKNOWN:
                return "CAA record at " + at + " prevents issuance for " + n.identifier() + ": " + e.explanation()
                        + "; remove that record or clear its critical flag.";
            case CAA_ACCOUNTURI_MISMATCH:
                return "CAA record at " + at + " prevents issuance for " + n.identifier() + ": " + e.explanation()
                        + "; add a record 0 " + recordTag + " \"" + ids.get(0)
                        + "; accounturi=<our account URL>\" or drop the accounturi parameter.";
            case CAA_METHOD_MISMATCH:
                return "CAA record at " + at + " prevents issuance for " + n.identifier() + ": " + e.explanation()
                        + "; add it to validationmethods or drop that parameter.";
            case CAA_MALFORMED:
                return "CAA record at " + at + " prevents issuance for " + n.identifier() + ": " + e.explanation()
                        + "; fix the record's syntax, e.g. 0 " + recordTag + " \"" + ids.get(0) + "\".";
            case CAA_FORBIDS:
            default:
                return "CAA record at " + at + " prevents issuance for " + n.identifier() + ": " + e.explanation()
                        + "; add a record 0 " + recordTag + " \"" + ids.get(0) + "\" at " + level
                        + " to allow " + idText + ".";
        }
    }

    static String failure(DomainName n, LevelAnswer a) {
        PrecheckReason r = a.failure().orElseThrow();
        String head = "CAA lookup for " + n.identifier() + " failed: " + a.failureText() + " for " + a.name()
                + " (CAA)";
        switch (r) {
            case DNS_SERVFAIL:
                return head + "; ask your DNS provider to answer CAA queries (type 257), an empty answer is fine.";
            case DNS_REFUSED:
                return head + "; the nameserver refuses to answer for this name: check the delegation (NS records)"
                        + " at the registrar and that your DNS provider serves this zone.";
            case DNS_NOTIMP:
                return head + "; ask your DNS provider to answer CAA queries (type 257), an empty answer is fine.";
            case DNS_FORMERR:
                return head + "; ask your DNS provider to answer CAA queries with EDNS0 (RFC 6891) correctly.";
            case DNS_TIMEOUT:
                return head + "; the domain's nameservers may be down, unreachable or dropping CAA queries (type 257).";
            case DNS_TRUNCATED:
                return head + "; make the CAA record set (or the whole answer) smaller so it fits in one UDP answer.";
            case DNSSEC_BOGUS:
                return head + "; fix the zone's DNSSEC signatures, or the DS record at the registrar.";
            case TLD_NXDOMAIN:
                return head + "; the CA does not issue under a top-level domain that does not exist.";
            default:
                return head + "; ask your DNS provider to answer CAA queries (type 257).";
        }
    }

    static String sweep(DomainName n, PrecheckReason r, String allowedDetail, List<NameserverAnswer> bad) {
        String who = bad.stream().limit(6).map(a -> a.nameserver() + " " + a.address() + " for " + a.level() + ": "
                + a.outcome() + (a.answered() ? " " + (a.records().isEmpty() ? "[no CAA]" : a.records()) : ""))
                .collect(Collectors.joining("; "));
        if (bad.size() > 6) {
            who += "; and " + (bad.size() - 6) + " more";
        }
        if (r == PrecheckReason.NS_INCONSISTENT) {
            return "CAA for " + n.identifier() + " allows issuance through our resolver, but the zone's nameservers"
                    + " disagree on the CAA records (" + who + "); the CA may ask the other server and be refused:"
                    + " make all nameservers serve the same records. (" + allowedDetail + ")";
        }
        return "CAA for " + n.identifier() + " allows issuance through our resolver, but some of the zone's"
                + " nameservers fail (" + who + "); the CA asks from several places and may hit a failing server:"
                + " fix or remove it from the NS records. (" + allowedDetail + ")";
    }

    static String rehearsalBlocked(DomainName n, String stagingAccount, String stagingDetail) {
        return stagingDetail + " The records let our production account issue, but certfleet rehearses every order"
                + " on staging first with the account " + stagingAccount + ", which they forbid: add that account as a"
                + " second accounturi record, or the name cannot pass the rehearsal.";
    }

    static String degraded(String why, String original) {
        return "Not checked: our resolver is degraded (" + why + "), so this failure may be ours, not the"
                + " customer's; the name stays pending and will be checked again. Last result: " + original;
    }
}
