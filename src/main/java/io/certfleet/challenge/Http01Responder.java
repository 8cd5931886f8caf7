package io.certfleet.challenge;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.certfleet.model.Http01Token;
import io.certfleet.store.Http01TokenStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP-01 responder: answers {@code GET} and {@code HEAD /.well-known/acme-challenge/<token>} with the token's
 * key authorization as {@code text/plain}, read from the database (so any node of a cluster can answer for a token
 * another node published) through a short-lived cache of positive answers. Also answers {@code /healthz} with
 * {@code ok}, without touching the database.
 *
 * <p>Everything else is a short plain-text error that never echoes the request: 404 for any other path and for
 * unknown, expired or withdrawn tokens (including traversal and percent-encoded variants, since only the raw path is
 * matched), 405 for other methods, 414 for a request target over {@value #MAX_TARGET} characters, 503 when the
 * database cannot answer (never a stale answer older than the cache TTL).
 *
 * <p>Requests run on a bounded pool of our own; when its queue is full, new connections are closed. {@link #close()}
 * stops within about a second.
 */
public final class Http01Responder implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Http01Responder.class);

    static final String PREFIX = "/.well-known/acme-challenge/";
    static final int MAX_TARGET = 512;
    private static final String TEXT = "text/plain";

    /**
     * How the responder runs.
     *
     * @param address where to listen; port 0 picks a free port ({@link Http01Responder#port()})
     * @param threads requests handled at once
     * @param cacheTtl how long a found token is served from memory (never past its expiry); zero disables the cache
     * @param cacheCapacity most tokens held in memory
     */
    public record Options(InetSocketAddress address, int threads, Duration cacheTtl, int cacheCapacity) {
        public static final int DEFAULT_THREADS = 8;
        public static final Duration DEFAULT_CACHE_TTL = Duration.ofSeconds(30);
        public static final int DEFAULT_CACHE_CAPACITY = 10_000;

        public Options {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(cacheTtl, "cacheTtl");
            if (threads < 1 || cacheTtl.isNegative() || cacheCapacity < 0) {
                throw new IllegalArgumentException("HTTP-01 responder needs threads >= 1, a cache TTL >= 0 and a"
                        + " cache capacity >= 0, not " + threads + ", " + cacheTtl + ", " + cacheCapacity);
            }
        }

        /** Defaults on {@code bind:port} (the {@code http01.bind} and {@code http01.port} settings). */
        public static Options of(String bind, int port) {
            return new Options(new InetSocketAddress(bind, port), DEFAULT_THREADS, DEFAULT_CACHE_TTL,
                    DEFAULT_CACHE_CAPACITY);
        }

        public Options withThreads(int n) {
            return new Options(address, n, cacheTtl, cacheCapacity);
        }

        public Options withCacheTtl(Duration ttl) {
            return new Options(address, threads, ttl, cacheCapacity);
        }

        public Options withCacheCapacity(int n) {
            return new Options(address, threads, cacheTtl, n);
        }
    }

    private final HttpServer server;
    private final ThreadPoolExecutor executor;
    private final TokenLookup lookup;
    private final TokenCache cache;
    private final Clock clock;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    private Http01Responder(HttpServer server, ThreadPoolExecutor executor, TokenLookup lookup, TokenCache cache,
            Clock clock) {
        this.server = server;
        this.executor = executor;
        this.lookup = lookup;
        this.cache = cache;
        this.clock = clock;
    }

    /** Starts serving the tokens of {@code tokens}; fails if the address cannot be bound. */
    public static Http01Responder start(Http01TokenStore tokens, Options options, Clock clock) throws IOException {
        return start(tokens::find, options, clock);
    }

    static Http01Responder start(TokenLookup lookup, Options options, Clock clock) throws IOException {
        HttpServer server = HttpServer.create(options.address(), 128);
        AtomicInteger threadNo = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(options.threads(), options.threads(), 0,
                TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(options.threads() * 128), r -> {
                    Thread t = new Thread(r, "http01-responder-" + threadNo.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        Http01Responder responder = new Http01Responder(server, executor, lookup,
                new TokenCache(options.cacheTtl(), options.cacheCapacity()), clock);
        server.createContext("/", responder::handle);
        server.setExecutor(executor);
        server.start();
        log.info("HTTP-01 responder: listening on {} ({} threads, cache TTL {})", responder.address(),
                options.threads(), options.cacheTtl());
        return responder;
    }

    /** The port it listens on (the chosen one when started on port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** Forgets this node's cached copy of {@code token}; the next request reads the database. */
    void invalidate(String token) {
        cache.invalidate(token);
    }

    int cachedTokens() {
        return cache.size();
    }

    private void handle(HttpExchange exchange) {
        inFlight.incrementAndGet();
        try {
            route(exchange);
        } catch (IOException e) {
            log.debug("HTTP-01 responder: client connection failed: {}", e.toString());
        } catch (RuntimeException e) {
            log.warn("HTTP-01 responder: request failed, answering 500", e);
            if (exchange.getResponseCode() == -1) {
                try {
                    send(exchange, 500, "internal error\n");
                } catch (IOException ignored) {
                    // the client is gone as well
                }
            }
        } finally {
            exchange.close();
            inFlight.decrementAndGet();
        }
    }

    private void route(HttpExchange exchange) throws IOException {
        URI target = exchange.getRequestURI();
        String method = exchange.getRequestMethod();
        boolean readOnly = "GET".equals(method) || "HEAD".equals(method);
        if (target.toString().length() > MAX_TARGET) {
            log.debug("HTTP-01 responder: 414 for a {}-character request target", target.toString().length());
            send(exchange, 414, "request target too long\n");
            return;
        }
        String path = target.getRawPath();
        if ("/healthz".equals(path)) {
            if (readOnly) {
                send(exchange, 200, "ok\n");
            } else {
                methodNotAllowed(exchange);
            }
            return;
        }
        if (path == null || !path.startsWith(PREFIX)) {
            log.debug("HTTP-01 responder: 404 for a path outside {}", PREFIX);
            send(exchange, 404, "not found\n");
            return;
        }
        if (!readOnly) {
            log.debug("HTTP-01 responder: 405 for {}", method.length() <= 16 ? method : "a long method");
            methodNotAllowed(exchange);
            return;
        }
        String token = path.substring(PREFIX.length());
        if (!Http01Token.isWellFormedToken(token)) {
            log.debug("HTTP-01 responder: 404 for a challenge path that is not a token ({} characters)",
                    token.length());
            send(exchange, 404, "not found\n");
            return;
        }
        serveToken(exchange, token);
    }

    private void serveToken(HttpExchange exchange, String token) throws IOException {
        Instant now = clock.instant();
        Optional<Http01Token> cached = cache.get(token, now);
        if (cached.isPresent()) {
            log.debug("{}: HTTP-01 token {} served (cached)", cached.get().identifier(), token);
            send(exchange, 200, cached.get().keyAuthorization());
            return;
        }
        long stamp = cache.stamp();
        Optional<Http01Token> found;
        try {
            found = lookup.find(token, now).filter(t -> t.token().equals(token) && now.isBefore(t.expiresAt()));
        } catch (RuntimeException e) {
            log.warn("HTTP-01 token {}: lookup failed, answering 503: {}", token, e.toString());
            log.debug("HTTP-01 token {}: lookup failure", token, e);
            exchange.getResponseHeaders().set("Retry-After", "5");
            send(exchange, 503, "temporarily unavailable\n");
            return;
        }
        if (found.isEmpty()) {
            log.debug("HTTP-01 token {}: 404, unknown, expired or withdrawn", token);
            send(exchange, 404, "not found\n");
            return;
        }
        cache.put(found.get(), stamp, now);
        log.debug("{}: HTTP-01 token {} served", found.get().identifier(), token);
        send(exchange, 200, found.get().keyAuthorization());
    }

    private static void methodNotAllowed(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, 405, "method not allowed\n");
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
        exchange.getResponseHeaders().set("Content-Type", TEXT);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        if ("HEAD".equals(exchange.getRequestMethod())) {
            exchange.getResponseHeaders().set("Content-Length", Integer.toString(bytes.length));
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Lets running requests finish for up to a second, then stops listening and stops the threads. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        // HttpServer.stop(n) waits the full n seconds on JDK 17 even when idle, so wait for running requests here.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        server.stop(0);
        executor.shutdownNow();
        log.info("HTTP-01 responder: stopped listening on {}", server.getAddress());
    }
}
