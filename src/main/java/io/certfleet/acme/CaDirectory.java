package io.certfleet.acme;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Facts from the CA's directory.
 *
 * @param caaIdentities {@code meta.caaIdentities}: the issuer domains a CAA {@code issue} record must name
 * @param profiles advertised profiles and their descriptions (empty when the CA has none)
 * @param renewalInfo whether the CA offers ARI ({@code renewalInfo})
 * @param termsOfService the terms the account agrees to, if published
 * @param externalAccountRequired whether new accounts need EAB
 */
public record CaDirectory(List<String> caaIdentities, Map<String, String> profiles, boolean renewalInfo,
        Optional<URI> termsOfService, boolean externalAccountRequired) {

    public CaDirectory {
        caaIdentities = List.copyOf(caaIdentities);
        profiles = Map.copyOf(profiles);
    }
}
