package io.certfleet.testsupport.acme;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny HTTP-01 responder on 127.0.0.1: serves {@code /.well-known/acme-challenge/{token}} from a map. Stands in
 * for certfleet's own responder in these tests; give its port to {@link PebbleEnvironment} as the HTTP-01 port.
 */
public final class ChallengeResponder implements AutoCloseable {

    private static final String PREFIX = "/.well-known/acme-challenge/";

    private final HttpServer server;
    private java.util.concurrent.ExecutorService executor;
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();

    private ChallengeResponder(HttpServer server) {
        this.server = server;
    }

    /** Starts on a free loopback port. */
    public static ChallengeResponder start() throws IOException {
        return start(0);
    }

    public static ChallengeResponder start(int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(TestPki.loopback(), port), 64);
        ChallengeResponder r = new ChallengeResponder(server);
        server.createContext("/", exchange -> {
            r.requests.incrementAndGet();
            String path = exchange.getRequestURI().getPath();
            String content = path.startsWith(PREFIX) ? r.tokens.get(path.substring(PREFIX.length())) : null;
            byte[] body = (content == null ? "not found" : content).getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(content == null ? 404 : 200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        r.executor = Executors.newFixedThreadPool(8, runnable -> {
            Thread t = new Thread(runnable, "http01-responder");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(r.executor);
        server.start();
        return r;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public void publish(String token, String content) {
        tokens.put(token, content);
    }

    public void withdraw(String token) {
        tokens.remove(token);
    }

    public int requestCount() {
        return requests.get();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
