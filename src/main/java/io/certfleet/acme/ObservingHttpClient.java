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
    private final io.certfleet.model.CaEnvironment environment;
    private final RequestListener listener;

    ObservingHttpClient(HttpClient delegate, RequestPacer pacer, io.certfleet.model.CaEnvironment environment,
                        RequestListener listener) {
        this.delegate = delegate;
        this.pacer = pacer;
        this.environment = environment;
        this.listener = listener;
    }

    /** Extra time past the request's own timeout before certfleet gives up on an exchange itself. */
    static final Duration DEADLINE_MARGIN = Duration.ofSeconds(5);
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    /**
     * Sends with a hard deadline. The JDK client's request timeout was seen not to fire: acme4j threads waited
     * for minutes on an exchange that never completed, holding the session's nonce lock and stalling every batch.
     * Here the exchange is abandoned at {@code timeout + margin} and reported as a timeout, which the pipeline
     * treats as the CA's fault (the batch waits and retries).
     */
    private <T> HttpResponse<T> sendWithDeadline(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        Duration limit = request.timeout().orElse(DEFAULT_TIMEOUT).plus(DEADLINE_MARGIN);
        java.util.concurrent.CompletableFuture<HttpResponse<T>> f = delegate.sendAsync(request, handler);
        try {
            return f.get(limit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            f.cancel(true);
            throw new java.net.http.HttpTimeoutException("no complete answer from " + request.uri() + " within "
                    + limit.toSeconds() + " s");
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            } else if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(c);
        } catch (InterruptedException e) {
            f.cancel(true);
            throw e;
        }
    }

    /** The kind of ACME request, from the path (Boulder's and Pebble's paths both). */
    static String kind(java.net.URI uri) {
        String p = uri.getPath() == null ? "" : uri.getPath().toLowerCase(java.util.Locale.ROOT);
        if (p.contains("finalize")) {
            return "finalize";
        } else if (p.contains("authz")) {
            return "authorization";
        } else if (p.contains("chal")) {
            return "challenge";
        } else if (p.contains("cert")) {
            return "certificate";
        } else if (p.contains("order")) {
            return "order";
        } else if (p.contains("nonce")) {
            return "nonce";
        } else if (p.contains("acct") || p.contains("account") || p.contains("sign-me-up")) {
            return "account";
        } else if (p.contains("dir")) {
            return "directory";
        }
        return "other";
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
        long t0 = System.nanoTime();
        HttpResponse<T> response;
        try {
            response = sendWithDeadline(request, handler);
        } catch (IOException | RuntimeException e) {
            listener.exchanged(environment, kind(request.uri()), -1, System.nanoTime() - t0);
            throw e;
        }
        listener.exchanged(environment, kind(request.uri()), response.statusCode(), System.nanoTime() - t0);
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
