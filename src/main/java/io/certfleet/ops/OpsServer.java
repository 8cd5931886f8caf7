package io.certfleet.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The operator endpoint (bind it to loopback or a management network): {@code /healthz} liveness (the process
 * answers), {@code /readyz} readiness (database and scheduler up; 503 otherwise), {@code /metrics} Prometheus text.
 */
public final class OpsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OpsServer.class);

    private final HttpServer server;
    private final ExecutorService executor;

    private OpsServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * @param ready   the readiness checks, each named for the 503 body
     * @param metrics the Prometheus exposition
     */
    public static OpsServer start(String bind, int port, java.util.Map<String, BooleanSupplier> ready,
                                  Supplier<String> metrics) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(bind, port), 16);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "certfleet-ops");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", ex -> {
            try (ex) {
                String path = ex.getRequestURI().getPath();
                if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
                    send(ex, 405, "method not allowed\n", "text/plain");
                    return;
                }
                switch (path) {
                    case "/healthz" -> send(ex, 200, "ok\n", "text/plain");
                    case "/readyz" -> readiness(ex, ready);
                    case "/metrics" -> send(ex, 200, metrics.get(), "text/plain; version=0.0.4; charset=utf-8");
                    default -> send(ex, 404, "not found\n", "text/plain");
                }
            } catch (RuntimeException e) {
                log.warn("ops: {} failed: {}", ex.getRequestURI().getPath(), e.toString());
                try {
                    send(ex, 503, "unavailable: " + e.getClass().getSimpleName() + "\n", "text/plain");
                } catch (IOException | RuntimeException ignored) {
                    // the client is gone
                }
            }
        });
        server.start();
        log.info("ops: /healthz, /readyz and /metrics on {}:{}", bind, server.getAddress().getPort());
        return new OpsServer(server, executor);
    }

    private static void readiness(HttpExchange ex, java.util.Map<String, BooleanSupplier> ready) throws IOException {
        StringBuilder failed = new StringBuilder();
        ready.forEach((name, check) -> {
            boolean ok;
            try {
                ok = check.getAsBoolean();
            } catch (RuntimeException e) {
                ok = false;
            }
            if (!ok) {
                failed.append(name).append(" not ready\n");
            }
        });
        if (failed.length() == 0) {
            send(ex, 200, "ready\n", "text/plain");
        } else {
            send(ex, 503, failed.toString(), "text/plain");
        }
    }

    private static void send(HttpExchange ex, int status, String body, String type) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(status, head ? -1 : b.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
