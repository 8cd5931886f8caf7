package io.certfleet.pipeline;

import io.certfleet.acme.AcmeClient;
import io.certfleet.acme.CaException;
import io.certfleet.acme.Keys;
import io.certfleet.model.StoredAccount;
import io.certfleet.store.AccountStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.MalformedURLException;
import java.net.URI;
import java.security.KeyPair;
import java.util.List;
import java.util.Optional;

/**
 * The ACME account of an environment: the stored one, or a new one created on first use (only when the terms
 * of service were agreed in the configuration). The account key is stored encrypted; it is never logged.
 */
public final class Accounts {
    private static final Logger log = LoggerFactory.getLogger(Accounts.class);

    private Accounts() {
    }

    /**
     * @param contact given to the CA when a new account is created ({@code acme.contact}); a stored account keeps
     *                the contact it was created with
     */
    public static CaSession ensure(AcmeClient client, String directoryUrl, AccountStore store, boolean termsAgreed,
                                   Optional<URI> contact) throws CaException {
        var stored = store.find(client.environment(), directoryUrl);
        if (stored.isPresent()) {
            StoredAccount a = stored.get();
            KeyPair key = Keys.fromPem(new String(a.keyPem()));
            return new CaSession(client.environment(), a.id(), a.accountUrl(), client.login(url(a.accountUrl()), key));
        }
        if (!termsAgreed) {
            throw new IllegalStateException(client.environment().wire() + ": no ACME account exists for " + directoryUrl
                    + " and acme.terms-agreed is false; read the CA's terms of service, then set acme.terms-agreed=true");
        }
        KeyPair key = Keys.generate();
        var accountUrl = client.registerAccount(key, contact.map(List::of).orElse(List.of()));
        StoredAccount a = store.saveOrGet(client.environment(), directoryUrl, accountUrl.toString(),
                Keys.toPem(key).toCharArray());
        if (!a.accountUrl().equals(accountUrl.toString())) {
            // another node created the environment's account at the same moment: use the stored one
            log.info("{}: another node created the ACME account first; using {}", client.environment().wire(),
                    a.accountUrl());
            return new CaSession(client.environment(), a.id(), a.accountUrl(),
                    client.login(url(a.accountUrl()), Keys.fromPem(new String(a.keyPem()))));
        }
        log.info("{}: created ACME account {}", client.environment().wire(), accountUrl);
        return new CaSession(client.environment(), a.id(), a.accountUrl(), client.login(accountUrl, key));
    }

    static java.net.URL url(String s) {
        try {
            return URI.create(s).toURL();
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw new IllegalStateException("stored URL is not a URL: " + s, e);
        }
    }
}
