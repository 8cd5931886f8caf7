package io.certfleet.acme;

import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * Wraps acme4j's HttpClient to remember, per calling thread, the status and {@code Retry-After} of the last
 * response. acme4j does not expose Retry-After for {@code serverInternal} problems or non-problem HTTP errors (a
 * load balancer's 503); the error mapping reads it from here. acme4j calls {@link #send} on the caller's thread.
 */
final class ObservingHttpClient extends HttpClient {

    /** Status and Retry-After header of the last response seen on this thread. */
    record LastResponse(int status, Optional<String> retryAfter) {
    }

    private static final ThreadLocal<LastResponse> LAST = new ThreadLocal<>();

    private final HttpClient delegate;
    private final RequestPacer pacer;

    ObservingHttpClient(HttpClient delegate, RequestPacer pacer) {
        this.delegate = delegate;
        this.pacer = pacer;
    }

    static void clear() {
        LAST.remove();
    }

    static Optional<LastResponse> last() {
        return Optional.ofNullable(LAST.get());
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        pacer.acquire();
        HttpResponse<T> response = delegate.send(request, handler);
        LAST.set(new LastResponse(response.statusCode(), response.headers().firstValue("Retry-After")));
        return response;
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request,
            HttpResponse.BodyHandler<T> handler) {
        return delegate.sendAsync(request, handler);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler,
            HttpResponse.PushPromiseHandler<T> push) {
        return delegate.sendAsync(request, handler, push);
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
        return delegate.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
        return delegate.connectTimeout();
    }

    @Override
    public Redirect followRedirects() {
        return delegate.followRedirects();
    }

    @Override
    public Optional<ProxySelector> proxy() {
        return delegate.proxy();
    }

    @Override
    public SSLContext sslContext() {
        return delegate.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
        return delegate.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
        return delegate.authenticator();
    }

    @Override
    public Version version() {
        return delegate.version();
    }

    @Override
    public Optional<Executor> executor() {
        return delegate.executor();
    }
}
