package io.certfleet.acme;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainName;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URL;
import java.security.KeyPair;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Certificate;
import org.shredzone.acme4j.Identifier;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.toolbox.JSON;
import org.shredzone.acme4j.util.CSRBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One logged-in account at one CA environment. Every method is one step: it makes the request(s) it needs, never
 * sleeps or polls, and returns what the CA said (including its Retry-After) so the caller can reschedule. Objects
 * are re-bound from their URLs on every call, so a fresh instance after a restart continues where the last stopped.
 * Thread-safe; calls are spread over the client's sessions.
 */
public final class CaAccount {

    private static final Logger LOG = LoggerFactory.getLogger(CaAccount.class);

    private final CaEnvironment environment;
    private final URL accountUrl;
    private final List<Login> logins;
    private final ErrorMapper errors;
    private final AtomicInteger next = new AtomicInteger();
    private final Optional<String> profile;

    CaAccount(CaEnvironment environment, URL accountUrl, List<Login> logins, ErrorMapper errors,
              Optional<String> profile) {
        this.environment = environment;
        this.accountUrl = accountUrl;
        this.logins = List.copyOf(logins);
        this.errors = errors;
        this.profile = profile;
    }

    public URL accountUrl() {
        return accountUrl;
    }

    /** Creates an order for the names (at most the CA's limit, 100 at Let's Encrypt). */
    public OrderState newOrder(Collection<DomainName> names) throws CaException {
        return newOrderForIdentifiers(names.stream().map(DomainName::identifier).toList());
    }

    /** Creates an order for raw DNS identifiers ({@code *.x} for wildcards), as sent to the CA. */
    public OrderState newOrderForIdentifiers(Collection<String> identifiers) throws CaException {
        return newOrderForIdentifiers(identifiers, Optional.empty());
    }

    /**
     * Creates an order for raw DNS identifiers that, when {@code replaces} is present, renews the certificate of
     * that ARI CertID ({@link RenewalIds}); only for a CA whose directory offers ARI.
     */
    public OrderState newOrderForIdentifiers(Collection<String> identifiers, Optional<String> replaces)
            throws CaException {
        if (identifiers.isEmpty()) {
            throw new IllegalArgumentException("an order needs at least one name");
        }
        ObservingHttpClient.clear();
        try {
            var builder = login().newOrder().domains(identifiers);
            profile.ifPresent(builder::profile);
            replaces.ifPresent(builder::replaces);
            Order order = builder.create();
            LOG.debug("{}: new order {} for {} names", environment, order.getLocation(), identifiers.size());
            return orderState(order, Optional.empty());
        } catch (AcmeException | RuntimeException e) {
            throw errors.map(e, CaRequest.NEW_ORDER, Optional.empty(), identifiers);
        }
    }

    /** Re-reads an order: status, error, authorizations, certificate URL and the CA's Retry-After. */
    public OrderState fetchOrder(URL orderUrl) throws CaException {
        ObservingHttpClient.clear();
        Order order = login().bindOrder(orderUrl);
        try {
            Optional<java.time.Instant> retryAfter = order.fetch();
            return orderState(order, retryAfter);
        } catch (AcmeException | RuntimeException e) {
            throw errors.map(e, CaRequest.FETCH_ORDER, Optional.of(orderUrl), List.of());
        }
    }

    /** The contact URIs the CA has on record for this account (one POST-as-GET of the account). */
    public List<java.net.URI> contacts() throws CaException {
        ObservingHttpClient.clear();
        try {
            var account = login().getAccount();
            account.fetch();
            return List.copyOf(account.getContacts());
        } catch (AcmeException | RuntimeException e) {
            throw errors.map(e, CaRequest.FETCH_ACCOUNT, Optional.of(accountUrl), List.of());
        }
    }

    /** Re-reads an authorization and its HTTP-01 challenge. */
    public AuthorizationState fetchAuthorization(URL authorizationUrl) throws CaException {
        ObservingHttpClient.clear();
        Login login = login();
        Authorization auth = login.bindAuthorization(authorizationUrl);
        try {
            Optional<java.time.Instant> retryAfter = auth.fetch();
            String ident = auth.getIdentifier().getValue();
            boolean wildcard = auth.isWildcard();
            Optional<Http01Proof> proof = auth.findChallenge(Http01Challenge.class).map(CaAccount::proof);
            return new AuthorizationState(authorizationUrl, wildcard && !ident.startsWith("*.") ? "*." + ident : ident,
                    wildcard, CaStatus.of(auth.getStatus()), auth.getExpires(), proof, retryAfter);
        } catch (AcmeException | RuntimeException e) {
            throw errors.map(e, CaRequest.FETCH_AUTHORIZATION, Optional.of(authorizationUrl), List.of());
        }
    }

    /** Tells the CA the proof is in place and it may validate. Publish the proof first. */
    public void triggerChallenge(URL challengeUrl) throws CaException {
        ObservingHttpClient.clear();
        try {
            login().bindChallenge(challengeUrl).trigger();
        } catch (AcmeException | RuntimeException e) {
            throw errors.map(e, CaRequest.TRIGGER_CHALLENGE, Optional.of(challengeUrl), List.of());
        }
    }

    /** Gives up a pending or valid authorization (e.g. of a name dropped from the batch). */
    public void deactivateAuthorization(URL authorizationUrl) throws CaException {
        ObservingHttpClient.clear();
        try {
            login().bindAuthorization(authorizationUrl).deactivate();
        } catch (AcmeException | RuntimeException e) {
            throw errors.map(e, CaRequest.DEACTIVATE_AUTHORIZATION, Optional.of(authorizationUrl), List.of());
        }
    }

    /**
     * Sends the CSR for {@code names} (all of the order's identifiers, no common name) signed with
     * {@code certificateKey}, then re-reads the order. A synchronous refusal (e.g. Boulder's CAA recheck) is a
     * {@link CaRejectedException} blaming the names it can attribute; an asynchronous one shows up later as
     * {@link OrderState#error()} of an {@code invalid} order.
     */
    public OrderState finalizeOrder(URL orderUrl, KeyPair certificateKey, Collection<String> names)
            throws CaException {
        ObservingHttpClient.clear();
        Order order = login().bindOrder(orderUrl);
        byte[] csr;
        try {
            CSRBuilder builder = new CSRBuilder();
            for (String n : names) {
                builder.addIdentifier(Identifier.dns(n));
            }
            builder.sign(certificateKey);
            csr = builder.getEncoded();
        } catch (IOException e) {
            throw new IllegalStateException("cannot build the CSR for " + orderUrl, e);
        }
        try {
            order.execute(csr);
        } catch (AcmeException | RuntimeException e) {
            throw errors.map(e, CaRequest.FINALIZE, Optional.of(orderUrl), names);
        }
        return fetchOrder(orderUrl);
    }

    /** Downloads the certificate chain of a valid order. */
    public IssuedCertificate downloadCertificate(URL certificateUrl) throws CaException {
        ObservingHttpClient.clear();
        Certificate cert = login().bindCertificate(certificateUrl);
        try {
            cert.download();
            StringWriter pem = new StringWriter();
            cert.writeCertificate(pem);
            X509Certificate leaf = cert.getCertificate();
            return new IssuedCertificate(certificateUrl, pem.toString(), leaf.getSerialNumber().toString(16),
                    leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant(), dnsNames(leaf));
        } catch (AcmeException | RuntimeException e) {
            throw errors.map(e, CaRequest.DOWNLOAD_CERTIFICATE, Optional.of(certificateUrl), List.of());
        } catch (IOException e) {
            throw new IllegalStateException("cannot write PEM to memory", e);
        }
    }

    /**
     * The CA's suggested renewal window for a certificate (ARI), or empty when the CA does not offer ARI. One
     * download and one renewalInfo request.
     */
    public Optional<io.certfleet.model.RenewalWindow> renewalWindow(URL certificateUrl) throws CaException {
        ObservingHttpClient.clear();
        Certificate cert = login().bindCertificate(certificateUrl);
        try {
            cert.download();
            if (!cert.hasRenewalInfo()) {
                return Optional.empty();
            }
            org.shredzone.acme4j.RenewalInfo info = cert.getRenewalInfo();
            info.fetch();
            return Optional.of(new io.certfleet.model.RenewalWindow(info.getSuggestedWindowStart(),
                    info.getSuggestedWindowEnd(), info.getExplanation().map(URL::toString)));
        } catch (AcmeException | RuntimeException e) {
            throw errors.map(e, CaRequest.RENEWAL_INFO, Optional.of(certificateUrl), List.of());
        }
    }

    private Login login() {
        return logins.get(Math.floorMod(next.getAndIncrement(), logins.size()));
    }

    private static OrderState orderState(Order order, Optional<java.time.Instant> retryAfter) {
        JSON json = order.getJSON();
        List<String> idents = new ArrayList<>();
        for (Identifier i : order.getIdentifiers()) {
            idents.add(i.getValue());
        }
        idents.sort(null);
        List<URL> authz = new ArrayList<>();
        for (Authorization a : order.getAuthorizations()) {
            authz.add(a.getLocation());
        }
        Optional<URL> certificate = json.get("certificate").map(JSON.Value::asURL);
        return new OrderState(order.getLocation(), CaStatus.of(order.getStatus()), idents, authz,
                order.getExpires(), order.getError().map(ErrorMapper::toCaProblem), certificate,
                retryAfter.or(order::getRetryAfter));
    }

    private static Http01Proof proof(Http01Challenge c) {
        return new Http01Proof(c.getLocation(), c.getToken(), c.getAuthorization(), CaStatus.of(c.getStatus()),
                c.getValidated(), c.getError().map(ErrorMapper::toCaProblem));
    }

    private static List<String> dnsNames(X509Certificate leaf) {
        List<String> out = new ArrayList<>();
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        out.add(((String) san.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new IllegalStateException("unreadable subjectAltName in " + leaf.getSubjectX500Principal(), e);
        }
        out.sort(null);
        return out;
    }
}
