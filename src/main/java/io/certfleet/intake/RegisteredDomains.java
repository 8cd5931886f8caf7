package io.certfleet.intake;

import com.google.common.net.InternetDomainName;
import io.certfleet.model.DomainName;

import java.util.Optional;

/**
 * The registered domain (eTLD+1 by the Public Suffix List, as shipped in Guava) under which Let's Encrypt counts
 * certificates: {@code shop.example.co.uk} → {@code example.co.uk}. Names under a private suffix
 * ({@code x.github.io}) count under that suffix plus one label, as Let's Encrypt does. Empty for a name that is
 * itself a public suffix or not under any known one.
 */
public final class RegisteredDomains {
    private RegisteredDomains() {
    }

    public static Optional<String> of(DomainName name) {
        try {
            InternetDomainName d = InternetDomainName.from(name.name());
            return d.isUnderPublicSuffix() ? Optional.of(d.topPrivateDomain().toString()) : Optional.empty();
        } catch (IllegalArgumentException | IllegalStateException e) {
            return Optional.empty();
        }
    }
}
