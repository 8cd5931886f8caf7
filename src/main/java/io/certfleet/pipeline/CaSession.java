package io.certfleet.pipeline;

import io.certfleet.acme.CaAccount;
import io.certfleet.model.CaEnvironment;

/**
 * A logged-in account at one environment, with its database id.
 *
 * @param renewalInfo the CA's directory offers ARI: production renewals carry {@code replaces}
 */
public record CaSession(CaEnvironment environment, long accountId, String accountUrl, CaAccount account,
                        boolean renewalInfo) {

    /** A session whose CA offers no ARI (or whose directory was not read). */
    public CaSession(CaEnvironment environment, long accountId, String accountUrl, CaAccount account) {
        this(environment, accountId, accountUrl, account, false);
    }

    public CaSession withRenewalInfo(boolean offered) {
        return new CaSession(environment, accountId, accountUrl, account, offered);
    }
}
