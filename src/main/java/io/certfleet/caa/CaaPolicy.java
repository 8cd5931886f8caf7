package io.certfleet.caa;

import io.certfleet.model.PrecheckReason;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Boulder's record evaluation ({@code filterCAA} + {@code validateCAA} + the RFC 8657 parameter checks) over the
 * relevant CAA set, with the CA's identities, our account URL and our challenge type. Pure: no DNS, no clock.
 */
final class CaaPolicy {

    /** Challenge names Boulder knows ({@code core.AcmeChallenge.IsValid}); other items are skipped. */
    static final Set<String> KNOWN_METHODS =
            Set.of("http-01", "dns-01", "tls-alpn-01", "dns-account-01", "dns-persist-01");
    /** Tags Boulder recognises; they never trigger the critical rule. */
    private static final Set<String> KNOWN_TAGS = Set.of("issue", "issuewild", "iodef", "issuemail", "issuevmc");
    private static final Pattern METHOD_ITEM = Pattern.compile("[A-Za-z0-9-]+");

    private final Set<String> caIdentities;
    private final Optional<String> accountUri;
    private final String method;

    CaaPolicy(Set<String> caIdentities, Optional<String> accountUri, String method) {
        this.caIdentities = Set.copyOf(caIdentities);
        this.accountUri = Objects.requireNonNull(accountUri);
        this.method = Objects.requireNonNull(method);
    }

    /** The same rules for another ACME account (staging's, when production names are rehearsed there first). */
    CaaPolicy forAccount(Optional<String> otherAccountUri) {
        return new CaaPolicy(caIdentities, otherAccountUri, method);
    }

    /**
     * The challenge type the CA will use for a name: Let's Encrypt validates wildcard names with DNS-01 only,
     * whatever the order's other names use, so {@code validationmethods} is matched against {@code dns-01} for them.
     */
    String methodFor(boolean wildcard) {
        return wildcard ? "dns-01" : method;
    }

    /**
     * The outcome of evaluating one relevant set.
     *
     * @param reason      one of the {@code CAA_*} reasons
     * @param applicable  the records the decision looked at (issue or issuewild), or the critical one
     * @param explanation a short clause for the detail message
     */
    record Evaluation(PrecheckReason reason, List<CaaProperty> applicable, String explanation) {
    }

    Evaluation evaluate(List<CaaProperty> set, boolean wildcard) {
        List<CaaProperty> issue = new ArrayList<>();
        List<CaaProperty> issueWild = new ArrayList<>();
        for (CaaProperty p : set) {
            String tag = p.canonicalTag();
            if (!KNOWN_TAGS.contains(tag) && p.critical()) {
                return new Evaluation(PrecheckReason.CAA_CRITICAL_UNKNOWN, List.of(p),
                        "the record " + p.text() + " has an unknown tag marked critical (flags " + p.flags()
                                + "), which forbids issuance by every CA");
            }
            if (tag.equals("issue")) {
                issue.add(p);
            } else if (tag.equals("issuewild")) {
                issueWild.add(p);
            }
        }
        boolean useWild = wildcard && !issueWild.isEmpty();
        List<CaaProperty> records = useWild ? issueWild : issue;
        String kind = useWild ? "issuewild" : "issue";
        if (records.isEmpty()) {
            return new Evaluation(PrecheckReason.CAA_NONE_APPLICABLE, List.of(),
                    "the CAA records there restrict nothing for this name (no " + kind + " records apply)");
        }
        boolean accountMismatch = false;
        boolean methodMismatch = false;
        boolean ourMalformed = false;
        int malformed = 0;
        for (CaaProperty p : records) {
            Optional<CaaValue> parsed = CaaValue.parse(p.value());
            if (parsed.isEmpty()) {
                malformed++;
                String issuer = p.value().split(";", -1)[0].strip();
                ourMalformed |= caIdentities.contains(issuer);
                continue;
            }
            CaaValue v = parsed.get();
            if (!caIdentities.contains(v.issuerDomain())) {
                continue;
            }
            if (!accountUriMatches(v)) {
                accountMismatch = true;
                continue;
            }
            if (!methodMatches(v, methodFor(wildcard))) {
                methodMismatch = true;
                continue;
            }
            return new Evaluation(PrecheckReason.CAA_PERMITS, List.of(p), "the record " + p.text()
                    + " authorises " + v.issuerDomain());
        }
        String ids = String.join(" or ", caIdentities.stream().sorted().toList());
        if (accountMismatch) {
            return new Evaluation(PrecheckReason.CAA_ACCOUNTURI_MISMATCH, records, "the " + kind
                    + " record for " + ids + " is limited to another ACME account (accounturi) than "
                    + accountUri.map(u -> "ours, " + u).orElse("any account configured here"));
        }
        if (methodMismatch) {
            return new Evaluation(PrecheckReason.CAA_METHOD_MISMATCH, records, "the " + kind + " record for "
                    + ids + " does not allow the " + methodFor(wildcard) + " challenge (validationmethods)"
                    + (wildcard ? ", which the CA requires for wildcard names" : ""));
        }
        if (ourMalformed || malformed == records.size()) {
            return new Evaluation(PrecheckReason.CAA_MALFORMED, records, "the " + kind + " record"
                    + (records.size() > 1 ? "s" : "") + " there cannot be parsed (RFC 8659 §4.2: parameters must be"
                    + " tag=value, tags letters and digits only, values without spaces, no trailing ';'),"
                    + " so it cannot authorise " + ids);
        }
        return new Evaluation(PrecheckReason.CAA_FORBIDS, records, "the " + kind + " records there authorise only "
                + describeIssuers(records) + ", not " + ids);
    }

    private boolean accountUriMatches(CaaValue v) {
        List<String> uris = v.values("accounturi");
        if (uris.isEmpty()) {
            return true;
        }
        if (uris.size() > 1 || uris.get(0).isEmpty()) {
            return false;
        }
        return accountUri.isPresent() && accountUri.get().equals(uris.get(0));
    }

    private static boolean methodMatches(CaaValue v, String method) {
        List<String> methods = v.values("validationmethods");
        if (methods.isEmpty()) {
            return true;
        }
        if (methods.size() > 1) {
            return false;
        }
        for (String item : methods.get(0).split(",", -1)) {
            if (!METHOD_ITEM.matcher(item).matches()) {
                return false;
            }
            if (KNOWN_METHODS.contains(item) && item.equals(method)) {
                return true;
            }
        }
        return false;
    }

    private static String describeIssuers(List<CaaProperty> records) {
        List<String> names = new ArrayList<>();
        for (CaaProperty p : records) {
            String issuer = p.value().split(";", -1)[0].strip();
            String shown = issuer.isEmpty() ? "no CA (\"" + p.value() + "\")" : "\"" + issuer + "\"";
            if (!names.contains(shown)) {
                names.add(shown);
            }
        }
        return String.join(", ", names);
    }
}
