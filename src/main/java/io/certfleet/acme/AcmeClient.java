package io.certfleet.acme;

import io.certfleet.model.CaEnvironment;
import java.net.URI;
import java.net.URL;
import java.security.KeyPair;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Metadata;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.connector.Resource;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.provider.AcmeProvider;
import org.shredzone.acme4j.provider.GenericAcmeProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One CA environment (staging or production): directory facts, account registration and log-in. Holds a few acme4j
 * sessions and hands them out round-robin, since one session makes one HTTP call at a time. Thread-safe.
 *
 * <p>Nothing is persisted here; callers store the URLs returned and the key pairs (encrypted) themselves.
 */
public final class AcmeClient {

    private static final Logger LOG = LoggerFactory.getLogger(AcmeClient.class);

    private final AcmeSettings settings;
    private final List<Session> sessions;
    private final AtomicInteger next = new AtomicInteger();
    private final ErrorMapper errors;

    private AcmeClient(AcmeSettings settings, List<Session> sessions, Clock clock) {
        this.settings = settings;
        this.sessions = List.copyOf(sessions);
        this.errors = new ErrorMapper(settings.environment(), clock);
    }

    /** Builds the sessions; does not contact the CA. */
    public static AcmeClient create(AcmeSettings settings) {
        return create(settings, Clock.systemUTC());
    }

    public static AcmeClient create(AcmeSettings settings, Clock clock) {
        return create(settings, clock, RequestListener.NONE);
    }

    /** As {@link #create(AcmeSettings, Clock)}, telling {@code listener} about every HTTP exchange. */
    public static AcmeClient create(AcmeSettings settings, Clock clock, RequestListener listener) {
        Objects.requireNonNull(settings, "settings");
        BouncyCastle.ensureRegistered();
        Optional<SSLContext> ssl = settings.extraTrustedCaPem().map(TrustStores::trustingJdkAnd);
        List<Session> sessions = new ArrayList<>();
        RequestPacer pacer = new RequestPacer(settings.requestsPerSecond()); // shared: the CA limits per IP
        for (int i = 0; i < settings.sessions(); i++) {
            URI dir = settings.directory();
            Session s = new Session(dir, new CertfleetProvider(providerFor(dir), ssl, pacer, settings.environment(),
                    listener));
            s.networkSettings().setTimeout(settings.timeout());
            sessions.add(s);
        }
        LOG.info("{} CA: {} ({} sessions, timeout {})", settings.environment(), settings.directory(),
                settings.sessions(), settings.timeout());
        return new AcmeClient(settings, sessions, clock);
    }

    public CaEnvironment environment() {
        return settings.environment();
    }

    /** Facts from the directory: CAA identities, profiles, ARI support. */
    public CaDirectory directory() throws CaException {
        ObservingHttpClient.clear();
        Session s = session();
        try {
            Metadata meta = s.getMetadata();
            Map<String, String> profiles = new TreeMap<>();
            for (String p : meta.getProfiles()) {
                profiles.put(p, meta.getProfileDescription(p).orElse(""));
            }
            boolean ari = s.resourceUrlOptional(Resource.RENEWAL_INFO).isPresent();
            return new CaDirectory(List.copyOf(meta.getCaaIdentities()), profiles, ari, meta.getTermsOfService(),
                    meta.isExternalAccountRequired());
        } catch (AcmeException | RuntimeException e) {
            throw errors.map(e, CaRequest.DIRECTORY, Optional.empty(), List.of());
        }
    }

    /**
     * Registers a new account for {@code accountKey} (or finds the existing one for that key), agreeing to the
     * CA's terms, which the caller's configuration has accepted. No contact is given.
     *
     * @return the account URL to persist
     */
    public URL registerAccount(KeyPair accountKey) throws CaException {
        return registerAccount(accountKey, List.of());
    }

    /**
     * As {@link #registerAccount(KeyPair)}, giving the CA {@code contacts} (e.g. {@code mailto:} URIs) for the new
     * account. An account that already exists for the key keeps the contacts it has. Warns when the CA's answer
     * does not list a contact that was sent.
     */
    public URL registerAccount(KeyPair accountKey, List<URI> contacts) throws CaException {
        ObservingHttpClient.clear();
        try {
            AccountBuilder builder = new AccountBuilder().agreeToTermsOfService().useKeyPair(accountKey);
            contacts.forEach(builder::addContact);
            Login login = builder.createLogin(session());
            // the CA's answer to new-account is already in the Account: no further request
            List<URI> recorded = login.getAccount().getContacts();
            LOG.info("{} CA: account {} registered, contacts {}", settings.environment(), login.getAccountLocation(),
                    recorded);
            if (!recorded.containsAll(contacts)) {
                LOG.warn("{} CA: account {} does not list the contact(s) {} sent at registration (it lists {}); the "
                        + "key may have had an account already", settings.environment(), login.getAccountLocation(),
                        contacts, recorded);
            }
            return login.getAccountLocation();
        } catch (AcmeException | RuntimeException e) {
            throw errors.map(e, CaRequest.NEW_ACCOUNT, Optional.empty(), List.of());
        }
    }

    /** Binds an existing account (no request is made); the account key signs every request. */
    public CaAccount login(URL accountUrl, KeyPair accountKey) {
        List<Login> logins = new ArrayList<>();
        for (Session s : sessions) {
            logins.add(s.login(accountUrl, accountKey));
        }
        return new CaAccount(settings.environment(), accountUrl, logins, errors, settings.profile());
    }

    private Session session() {
        return sessions.get(Math.floorMod(next.getAndIncrement(), sessions.size()));
    }

    private static AcmeProvider providerFor(URI dir) {
        if ("http".equals(dir.getScheme()) || "https".equals(dir.getScheme())) {
            return new GenericAcmeProvider();
        }
        for (AcmeProvider p : ServiceLoader.load(AcmeProvider.class, AcmeProvider.class.getClassLoader())) {
            if (p.accepts(dir)) {
                return p;
            }
        }
        throw new IllegalArgumentException("no ACME provider accepts " + dir);
    }
}
