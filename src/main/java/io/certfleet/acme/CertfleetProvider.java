package io.certfleet.acme;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.challenge.Challenge;
import org.shredzone.acme4j.connector.Connection;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.provider.AcmeProvider;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * Wraps the acme4j provider that handles a directory URI so its HttpClient (a) trusts our extra CAs when given and
 * (b) is an {@link ObservingHttpClient}. Everything else is the wrapped provider's behaviour.
 */
final class CertfleetProvider implements AcmeProvider {

    private final AcmeProvider delegate;
    private final Optional<SSLContext> sslContext;
    private final RequestPacer pacer;

    CertfleetProvider(AcmeProvider delegate, Optional<SSLContext> sslContext, RequestPacer pacer) {
        this.delegate = delegate;
        this.sslContext = sslContext;
        this.pacer = pacer;
    }

    @Override
    public boolean accepts(URI serverUri) {
        return delegate.accepts(serverUri);
    }

    @Override
    public URL resolve(URI serverUri) {
        return delegate.resolve(serverUri);
    }

    @Override
    public HttpClient createHttpClient(NetworkSettings settings) {
        HttpClient.Builder b = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(settings.getTimeout())
                .proxy(settings.getProxySelector());
        if (settings.getAuthenticator() != null) {
            b.authenticator(settings.getAuthenticator());
        }
        sslContext.ifPresent(b::sslContext);
        return new ObservingHttpClient(b.build(), pacer);
    }

    @Override
    public Connection connect(URI serverUri, NetworkSettings networkSettings, HttpClient httpClient) {
        return delegate.connect(serverUri, networkSettings, httpClient);
    }

    @Override
    public JSON directory(Session session, URI serverUri) throws AcmeException {
        return delegate.directory(session, serverUri);
    }

    @Override
    public Challenge createChallenge(Login login, JSON data) {
        return delegate.createChallenge(login, data);
    }

    @Override
    public Optional<String> getProposedEabMacAlgorithm() {
        return delegate.getProposedEabMacAlgorithm();
    }
}
