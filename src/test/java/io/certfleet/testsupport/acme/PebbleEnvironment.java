package io.certfleet.testsupport.acme;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The real test CA stack on loopback: pebble-challtestsrv (mock DNS + management API) and two Pebble 2.4.0
 * instances, "staging" and "production", each with its own listener and management port, both validating HTTP-01
 * against {@code httpPort} (the responder port the test gives) and resolving through challtestsrv.
 *
 * <pre>{@code
 * responder = ChallengeResponder.start();
 * env = PebbleEnvironment.start(responder.port());
 * AcmeClient staging = AcmeClient.create(AcmeSettings.of(STAGING, env.stagingDirectory()).withTrustedCa(env.caPem()));
 * ...
 * env.close();
 * }</pre>
 *
 * Each process's output goes to {@code target/pebble-env/<run>/<name>.log}. Everything is killed on {@link #close()}
 * and by a JVM shutdown hook. Missing binaries are installed once with {@code apt-get install -y pebble}; if that
 * fails the start fails with a clear message (never a silent skip).
 */
public final class PebbleEnvironment implements AutoCloseable {

    static final Path PEBBLE = Paths.get("/usr/bin/pebble");
    static final Path CHALLTESTSRV = Paths.get("/usr/bin/pebble-challtestsrv");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    /** One running Pebble. */
    public record Pebble(String name, int port, int managementPort) {
        public URI directory() {
            return URI.create("https://127.0.0.1:" + port + "/dir");
        }

        public URI management() {
            return URI.create("https://127.0.0.1:" + managementPort);
        }
    }

    private final Path dir;
    private final TestPki pki;
    private final List<Process> processes = new ArrayList<>();
    private final Thread shutdownHook = new Thread(this::killAll, "pebble-environment-shutdown");
    private final HttpClient plainHttp = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final HttpClient tlsHttp;
    private int dnsPort;
    private int challManagementPort;
    private Pebble staging;
    private Pebble production;
    private final int httpPort;
    private Map<String, String> pebbleEnv = Map.of();

    private PebbleEnvironment(Path dir, TestPki pki, int httpPort) {
        this.dir = dir;
        this.pki = pki;
        this.httpPort = httpPort;
        this.tlsHttp = HttpClient.newBuilder().sslContext(pki.clientContext()).connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    /**
     * Starts challtestsrv and both Pebbles.
     *
     * @param httpPort where the CA connects for HTTP-01 validation (certfleet's, or the test's, responder)
     */
    public static PebbleEnvironment start(int httpPort) throws IOException {
        return start(httpPort, Map.of());
    }

    /**
     * Starts challtestsrv and both Pebbles, the Pebbles with extra environment variables (for example
     * {@code PEBBLE_WFE_NONCEREJECT=50}: half of all nonces rejected).
     */
    public static PebbleEnvironment start(int httpPort, Map<String, String> pebbleEnv) throws IOException {
        ensureBinaries();
        Path dir = Paths.get("target", "pebble-env", Long.toString(System.currentTimeMillis()) + "-"
                + ProcessHandle.current().pid()).toAbsolutePath();
        Files.createDirectories(dir);
        TestPki pki = TestPki.generate();
        pki.writeTo(dir);
        PebbleEnvironment env = new PebbleEnvironment(dir, pki, httpPort);
        env.pebbleEnv = Map.copyOf(pebbleEnv);
        Runtime.getRuntime().addShutdownHook(env.shutdownHook);
        try {
            env.startChallTestSrv();
            env.staging = env.startPebble("staging");
            env.production = env.startPebble("production");
            return env;
        } catch (IOException | RuntimeException e) {
            env.close();
            throw e;
        }
    }

    public Pebble staging() {
        return staging;
    }

    public Pebble production() {
        return production;
    }

    public URI stagingDirectory() {
        return staging.directory();
    }

    public URI productionDirectory() {
        return production.directory();
    }

    /** The test CA that signed the listeners' certificate: give it to the client as an extra trusted CA. */
    public String caPem() {
        return pki.caPem();
    }

    /**
     * How many orders the named Pebble ({@code staging} or {@code production}) really created, from its log:
     * requests a proxy counts include badNonce retries, which create nothing.
     */
    public long ordersCreated(String pebble) throws IOException {
        try (var lines = Files.lines(dir.resolve(pebble + ".log"))) {
            return lines.filter(l -> l.contains("Added order")).count();
        }
    }

    /**
     * The ids of the orders the named Pebble created, from its log ({@code Added order "<id>"}); an order's URL
     * ends with its id.
     */
    public List<String> orderIdsCreated(String pebble) throws IOException {
        java.util.regex.Pattern added = java.util.regex.Pattern.compile("Added order \"([^\"]+)\"");
        try (var lines = Files.lines(dir.resolve(pebble + ".log"))) {
            return lines.map(added::matcher).filter(java.util.regex.Matcher::find).map(m -> m.group(1)).toList();
        }
    }

    public TestPki pki() {
        return pki;
    }

    public int httpPort() {
        return httpPort;
    }

    public int dnsPort() {
        return dnsPort;
    }

    public Path logDirectory() {
        return dir;
    }

    /** The root that issues end-entity certificates (regenerated at every Pebble start). */
    public String issuingRootPem(Pebble pebble) {
        return get(pebble.management().resolve("/roots/0"));
    }

    // --- challtestsrv management -------------------------------------------------------------------------------

    public void addA(String host, String... addresses) {
        manage("/add-a", Map.of("host", host, "addresses", List.of(addresses)));
    }

    public void clearA(String host) {
        manage("/clear-a", Map.of("host", host));
    }

    public void addCaa(String host, String tag, String value) {
        manage("/add-caa", Map.of("host", host, "policies", List.of(Map.of("tag", tag, "value", value))));
    }

    public void clearCaa(String host) {
        manage("/clear-caa", Map.of("host", host));
    }

    /** Makes every query for exactly {@code host} answer SERVFAIL (an A lookup failure fails HTTP-01). */
    public void setServfail(String host) {
        manage("/set-servfail", Map.of("host", host));
    }

    public void clearServfail(String host) {
        manage("/clear-servfail", Map.of("host", host));
    }

    void manage(String path, Map<String, Object> body) {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + challManagementPort + path))
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).timeout(Duration.ofSeconds(5)).build();
        try {
            HttpResponse<String> resp = plainHttp.send(req, HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() != 200) {
                throw new IllegalStateException("challtestsrv " + path + " answered " + resp.statusCode() + ": "
                        + resp.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("challtestsrv " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String get(URI uri) {
        try {
            HttpResponse<String> resp = tlsHttp.send(HttpRequest.newBuilder(uri).build(),
                    HttpResponse.BodyHandlers.ofString());
            return resp.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    // --- processes ---------------------------------------------------------------------------------------------

    private void startChallTestSrv() throws IOException {
        dnsPort = freePort();
        challManagementPort = freePort();
        spawn("challtestsrv", List.of(CHALLTESTSRV.toString(),
                "-dns01", "127.0.0.1:" + dnsPort, "-http01", "", "-https01", "", "-tlsalpn01", "",
                "-defaultIPv6", "", "-defaultIPv4", "127.0.0.1",
                "-management", "127.0.0.1:" + challManagementPort));
        awaitListening("challtestsrv", challManagementPort);
    }

    private Pebble startPebble(String name) throws IOException {
        int port = freePort();
        int mgmt = freePort();
        Map<String, Object> cfg = Map.of("pebble", Map.of(
                "listenAddress", "127.0.0.1:" + port,
                "managementListenAddress", "127.0.0.1:" + mgmt,
                "certificate", dir.resolve("server-cert.pem").toString(),
                "privateKey", dir.resolve("server-key.pem").toString(),
                "httpPort", httpPort,
                "tlsPort", freePort(),
                "ocspResponderURL", "",
                "externalAccountBindingRequired", false));
        Path config = dir.resolve(name + "-config.json");
        Files.writeString(config, Json.write(cfg));
        spawn(name, List.of(PEBBLE.toString(), "-config", config.toString(), "-dnsserver", "127.0.0.1:" + dnsPort),
                pebbleEnv);
        awaitListening(name, port);
        awaitListening(name + " management", mgmt);
        return new Pebble(name, port, mgmt);
    }

    private void spawn(String name, List<String> command) throws IOException {
        spawn(name, command, Map.of());
    }

    private void spawn(String name, List<String> command, Map<String, String> extraEnv) throws IOException {
        Path log = dir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("PEBBLE_VA_NOSLEEP", "1");
        pb.environment().putAll(extraEnv);
        synchronized (processes) {
            processes.add(pb.start());
        }
    }

    private void awaitListening(String name, int port) throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                synchronized (processes) {
                    for (Process p : processes) {
                        if (!p.isAlive()) {
                            throw new IOException(name + " exited with " + p.exitValue() + "; see " + dir);
                        }
                    }
                }
                sleep(50);
            }
        }
        throw new IOException(name + " is not listening on 127.0.0.1:" + port + " after " + START_TIMEOUT
                + "; see " + dir);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, TestPki.loopback())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    private static void ensureBinaries() throws IOException {
        if (Files.isExecutable(PEBBLE) && Files.isExecutable(CHALLTESTSRV)) {
            return;
        }
        synchronized (PebbleEnvironment.class) {
            if (!Files.isExecutable(PEBBLE) || !Files.isExecutable(CHALLTESTSRV)) {
                try {
                    Process p = new ProcessBuilder("apt-get", "install", "-y", "pebble").inheritIO().start();
                    p.waitFor();
                } catch (IOException | InterruptedException e) {
                    // reported below
                }
            }
        }
        if (!Files.isExecutable(PEBBLE) || !Files.isExecutable(CHALLTESTSRV)) {
            throw new IllegalStateException("Pebble is required for the ACME integration tests but " + PEBBLE
                    + " or " + CHALLTESTSRV + " is missing and 'apt-get install -y pebble' did not provide it."
                    + " Install Debian's 'pebble' package (2.4.0) and re-run.");
        }
    }

    private void killAll() {
        List<Process> copy;
        synchronized (processes) {
            copy = new ArrayList<>(processes);
            processes.clear();
        }
        for (Process p : copy) {
            p.destroy();
        }
        for (Process p : copy) {
            try {
                if (!p.waitFor(3, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(3, java.util.concurrent.TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        killAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
