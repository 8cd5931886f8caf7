package io.certfleet.pipeline;

import io.certfleet.acme.CaAccount;
import io.certfleet.model.CaEnvironment;

/** A logged-in account at one environment, with its database id. */
public record CaSession(CaEnvironment environment, long accountId, String accountUrl, CaAccount account) {
}
