package io.certfleet.model;

/**
 * Why the CAA pre-check reached its verdict. Exactly one per name. See {@code docs/precheck.md} for what each
 * code means to an operator and what the customer should do.
 */
public enum PrecheckReason {
    /** No CAA records at the name or any parent, and every lookup answered: allowed. */
    NO_CAA(PrecheckVerdict.ALLOWED),
    /** The relevant CAA set holds a record that authorises the CA (with matching parameters): allowed. */
    CAA_PERMITS(PrecheckVerdict.ALLOWED),
    /** The relevant CAA set has records, but none that apply (e.g. only iodef, or only issuewild for a
     * non-wildcard name): allowed. */
    CAA_NONE_APPLICABLE(PrecheckVerdict.ALLOWED),
    /** The relevant CAA set authorises other CAs only (or nobody, {@code issue ";"}): blocked. */
    CAA_FORBIDS(PrecheckVerdict.BLOCKED),
    /** The relevant CAA set holds an unknown tag marked critical (flag bit 128 or 1): blocked. */
    CAA_CRITICAL_UNKNOWN(PrecheckVerdict.BLOCKED),
    /** A record names the CA but its {@code accounturi} is not our account: blocked. */
    CAA_ACCOUNTURI_MISMATCH(PrecheckVerdict.BLOCKED),
    /** A record names the CA but its {@code validationmethods} exclude our challenge type: blocked. */
    CAA_METHOD_MISMATCH(PrecheckVerdict.BLOCKED),
    /** The only records that could authorise the CA are malformed, so none authorises: blocked. */
    CAA_MALFORMED(PrecheckVerdict.BLOCKED),
    /** A lookup below the relevant level answered SERVFAIL: blocked. */
    DNS_SERVFAIL(PrecheckVerdict.BLOCKED),
    /** A lookup answered REFUSED: blocked. */
    DNS_REFUSED(PrecheckVerdict.BLOCKED),
    /** A lookup answered NOTIMP (CAA type not implemented): blocked. */
    DNS_NOTIMP(PrecheckVerdict.BLOCKED),
    /** A lookup answered FORMERR: blocked. */
    DNS_FORMERR(PrecheckVerdict.BLOCKED),
    /** A lookup answered another error rcode, or failed at the transport level (not a timeout): blocked. */
    DNS_OTHER(PrecheckVerdict.BLOCKED),
    /** A lookup got no answer after every try: blocked. */
    DNS_TIMEOUT(PrecheckVerdict.BLOCKED),
    /** A lookup answer came back truncated (TC bit); Let's Encrypt does not retry over TCP: blocked. */
    DNS_TRUNCATED(PrecheckVerdict.BLOCKED),
    /** A lookup failed DNSSEC validation (Extended DNS Error or our own validator): blocked. */
    DNSSEC_BOGUS(PrecheckVerdict.BLOCKED),
    /** The top-level domain itself does not exist (NXDOMAIN): blocked. */
    TLD_NXDOMAIN(PrecheckVerdict.BLOCKED),
    /** The input is not a name Let's Encrypt would accept; no DNS query was made: blocked. */
    INVALID_NAME(PrecheckVerdict.BLOCKED),
    /** Sweep: CAA allows issuance, but some of the zone's nameservers fail or time out: at risk. */
    NS_PARTIAL_FAILURE(PrecheckVerdict.AT_RISK),
    /** Sweep: CAA allows issuance, but the zone's nameservers disagree on the CAA set: at risk. */
    NS_INCONSISTENT(PrecheckVerdict.AT_RISK),
    /** Our resolver was unhealthy during the run, so this name's failure may be ours: unchecked, leave pending. */
    RESOLVER_DEGRADED(PrecheckVerdict.AT_RISK);

    private final PrecheckVerdict verdict;

    PrecheckReason(PrecheckVerdict verdict) {
        this.verdict = verdict;
    }

    /** The verdict this reason always comes with. */
    public PrecheckVerdict verdict() {
        return verdict;
    }

    /** True for the reasons that come from a failed lookup rather than from CAA records. */
    public boolean isLookupFailure() {
        return name().startsWith("DNS") || this == TLD_NXDOMAIN;
    }
}
