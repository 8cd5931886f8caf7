package io.certfleet.testsupport.acme;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * An HTTPS reverse proxy in front of a Pebble that answers some requests the way Boulder (Let's Encrypt) would,
 * so the client's error handling meets the real shapes (see le-behaviour.md §1.7, §5, §6) on a real wire.
 *
 * <p>Requests are JWS-signed and pass through untouched; the {@code Host} header is forwarded so Pebble's own
 * URLs and JWS {@code url} checks already point at the proxy (any upstream origin left in bodies or
 * Location/Link headers is rewritten as a safety net). Needs {@code -Djdk.httpclient.allowRestrictedHeaders=host}
 * (failsafe sets it). A replaced response carries a fresh {@code Replay-Nonce} fetched from the upstream.
 * Requests are counted per {@link Endpoint} so tests can assert how many orders were spent.
 */
public final class BoulderProxy implements AutoCloseable {

    /** The kinds of ACME requests, from Pebble's paths. */
    public enum Endpoint {
        DIRECTORY, NONCE, NEW_ACCOUNT, NEW_ORDER, ORDER, FINALIZE, AUTHORIZATION, CHALLENGE, CERTIFICATE,
        RENEWAL_INFO, OTHER
    }

    private static final String ERR = "urn:ietf:params:acme:error:";
    private static final String POLICY = "The ACME server refuses to issue a certificate for this domain name, "
            + "because it is forbidden by policy";

    /** One canned response. */
    private record Canned(int status, String contentType, byte[] body, Map<String, String> headers,
            boolean withNonce) {
    }

    /** One injection rule: which endpoint, and a function of the request's names to a response or nothing. */
    private interface Rule {
        Optional<Canned> apply(Endpoint endpoint, Set<String> names);
    }

    private final HttpsServer server;
    private final ExecutorService executor;
    private final URI upstream;
    private final HttpClient http;
    /**
     * Debian's Pebble 2.4.0 can deadlock for good: a new-order that reuses authorizations holds its store's read
     * lock and waits for an authorization's lock (FindValidAuthorization), while the authorization handler holds that
     * authorization and waits for the store, behind a second new-order waiting to write (AddChallenge). Seen in a
     * full bench run: every Pebble request hung until the process was killed (goroutine dump in docs/benchmarks.md
     * section 2). Let's Encrypt has no such lock; the proxy keeps new-orders apart from authorization and challenge
     * requests so the test CA never gets there.
     */
    private final java.util.concurrent.locks.ReadWriteLock pebbleLocks =
            new java.util.concurrent.locks.ReentrantReadWriteLock(true);
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final List<java.util.function.Function<Endpoint, Optional<Duration>>> delays = new CopyOnWriteArrayList<>();
    /** The marker of a rule that closes the connection without any answer. */
    private static final Canned RESET = new Canned(0, "", new byte[0], Map.of(), false);
    private final Map<Endpoint, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final Map<Endpoint, AtomicInteger> nonceRejected = new ConcurrentHashMap<>();
    private final Map<Endpoint, AtomicInteger> injected = new ConcurrentHashMap<>();
    private volatile Optional<Instant[]> renewalWindow = Optional.empty();
    private volatile Map<String, String> profiles = Map.of();
    private final List<String> orderProfiles = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Set<String> asyncCaaFailures = ConcurrentHashMap.newKeySet();
    /** ARI CertID → the DNS names of certificates downloaded through the proxy. */
    private final Map<String, Set<String>> certificatesSeen = new ConcurrentHashMap<>();
    private final Set<String> replaced = ConcurrentHashMap.newKeySet();
    private final List<Replacement> replacements = new CopyOnWriteArrayList<>();
    private final AtomicInteger newOrdersWithoutReplaces = new AtomicInteger();
    private final List<Hold> holds = new CopyOnWriteArrayList<>();
    private volatile boolean reuseOrders;
    /** Orders the upstream created, by account URL and sorted identifiers (for Boulder's order reuse). */
    private final Map<String, OrderMemo> ordersByRequest = new ConcurrentHashMap<>();
    /** The same orders by their id (the last segment of the order URL), to follow their status. */
    private final Map<String, OrderMemo> ordersById = new ConcurrentHashMap<>();
    private final AtomicInteger reused = new AtomicInteger();
    private final Map<Endpoint, AtomicInteger> succeeded = new ConcurrentHashMap<>();

    /** An order the upstream created: where it lives, its last body and status as seen through this proxy. */
    private static final class OrderMemo {
        final String location;
        volatile byte[] body;
        volatile String status;
        volatile Optional<Instant> expires;

        OrderMemo(String location, byte[] body) {
            this.location = location;
            update(body);
        }

        void update(byte[] json) {
            JsonNode n = Json.read(json);
            body = json;
            status = n.path("status").asText("");
            try {
                expires = n.hasNonNull("expires") ? Optional.of(java.time.OffsetDateTime.parse(n.get("expires").asText())
                        .toInstant()) : Optional.empty();
            } catch (java.time.format.DateTimeParseException e) {
                expires = Optional.empty();
            }
        }
    }

    /**
     * A trap on one endpoint: the next request to it that the upstream CA accepts is forwarded and acted on, then
     * its answer is held back until {@link #release()} (or 60 s). Meanwhile the CA has done the work (created the
     * order, accepted the CSR, started validating) and the client does not know it yet: the moment a test kills
     * the client to prove it recovers.
     */
    public static final class Hold {
        private final Endpoint endpoint;
        private final java.util.concurrent.atomic.AtomicBoolean taken = new java.util.concurrent.atomic.AtomicBoolean();
        private final java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
        private final java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);

        private Hold(Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        /** True while an answer is held back (the upstream has acted on the request). */
        public boolean isHolding() {
            return holding.getCount() == 0 && released.getCount() > 0;
        }

        /** True once a request was caught (held now, or released since). */
        public boolean isTaken() {
            return taken.get();
        }

        /** Lets the held answer go (to a client that may be gone); a hold not yet taken is disarmed. */
        public void release() {
            taken.set(true);
            released.countDown();
        }

        private boolean take(Endpoint e) {
            return e == endpoint && !taken.getAndSet(true);
        }

        private void hold() throws InterruptedException {
            holding.countDown();
            released.await(60, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    private BoulderProxy(HttpsServer server, ExecutorService executor, URI upstream, HttpClient http) {
        this.server = server;
        this.executor = executor;
        this.upstream = upstream;
        this.http = http;
    }

    /** Starts a proxy on a free loopback port in front of {@code pebble}, serving the test certificate. */
    public static BoulderProxy start(PebbleEnvironment.Pebble pebble, TestPki pki) throws IOException {
        HttpsServer server = HttpsServer.create(new InetSocketAddress(TestPki.loopback(), 0), 64);
        server.setHttpsConfigurator(new HttpsConfigurator(pki.serverContext()));
        ExecutorService ex = Executors.newFixedThreadPool(16, r -> {
            Thread t = new Thread(r, "boulder-proxy");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(ex);
        HttpClient http = HttpClient.newBuilder().sslContext(pki.clientContext()).version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
        BoulderProxy proxy = new BoulderProxy(server, ex, URI.create("https://127.0.0.1:" + pebble.port()), http);
        proxy.checkHostHeaderAllowed();
        server.createContext("/", proxy::handle);
        server.start();
        return proxy;
    }

    public URI directory() {
        return URI.create(origin() + "/dir");
    }

    public String origin() {
        return "https://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Requests received per endpoint (forwarded or answered by a rule). */
    public int count(Endpoint e) {
        return counts.getOrDefault(e, new AtomicInteger()).get();
    }

    /**
     * Requests the upstream CA acted on: received, minus those a rule answered, minus those the CA refused with
     * {@code badNonce} (Pebble rejects 5 % of nonces by default and acme4j resends those, so {@link #count} can
     * exceed the number of orders or finalizations that really happened).
     */
    public int acceptedCount(Endpoint e) {
        return count(e) - injectedCount(e) - nonceRejected.getOrDefault(e, new AtomicInteger()).get();
    }

    /**
     * Requests the upstream CA answered with success (2xx) per endpoint: for {@code FINALIZE}, the CSRs it accepted,
     * that is the certificates it issued.
     */
    public int succeededCount(Endpoint e) {
        return succeeded.getOrDefault(e, new AtomicInteger()).get();
    }

    /** Requests answered by a rule per endpoint. */
    public int injectedCount(Endpoint e) {
        return injected.getOrDefault(e, new AtomicInteger()).get();
    }

    public void resetCounts() {
        counts.clear();
        injected.clear();
        nonceRejected.clear();
        succeeded.clear();
        reused.set(0);
    }

    public void clearRules() {
        rules.clear();
        delays.clear();
        renewalWindow = Optional.empty();
        profiles = Map.of();
        orderProfiles.clear();
        asyncCaaFailures.clear();
        replaced.clear();
        replacements.clear();
        newOrdersWithoutReplaces.set(0);
        holds.forEach(Hold::release);
        holds.clear();
        reuseOrders = false;
    }

    /** Sets a {@link Hold} on the next accepted request to {@code endpoint}. */
    public Hold holdAnswer(Endpoint endpoint) {
        Hold h = new Hold(endpoint);
        holds.add(h);
        return h;
    }

    /**
     * Boulder's order reuse (le-behaviour.md §4; Pebble has none): a new-order from an account that already has an
     * unexpired {@code pending} or {@code ready} order for exactly the same identifiers gets that order back
     * (201, its URL and its last known state) instead of a new one. The status is followed through the order and
     * finalize answers passing this proxy.
     */
    public void reuseOrders() {
        reuseOrders = true;
    }

    /** New-orders answered with an existing order ({@link #reuseOrders()}); they are also counted as injected. */
    public int reusedOrders() {
        return reused.get();
    }

    // --- Boulder shapes ------------------------------------------------------------------------------------------

    /**
     * New-order refuses orders containing any of {@code names}: one such name gives a bare {@code rejectedIdentifier}
     * ({@code Cannot issue for "<name>": …}, no subproblems); several give subproblems with identifiers.
     */
    public void rejectIdentifiersAtNewOrder(Set<String> names) {
        rules.add((e, req) -> {
            List<String> bad = hits(e, Endpoint.NEW_ORDER, req, names);
            if (bad.isEmpty()) {
                return Optional.empty();
            }
            ObjectNode p = problem("rejectedIdentifier", "Cannot issue for \"" + bad.get(0) + "\": " + POLICY
                    + (bad.size() > 1 ? " (and " + (bad.size() - 1)
                    + " more problems. Refer to sub-problems for more information.)" : ""), 400);
            if (bad.size() > 1) {
                ArrayNode subs = p.putArray("subproblems");
                for (String n : bad) {
                    subs.add(subproblem("rejectedIdentifier", POLICY, 400, n));
                }
            }
            return Optional.of(problemResponse(p, 400, Map.of()));
        });
    }

    /**
     * New-order refuses any order of more than {@code max} identifiers as Boulder does over its (profile's) limit:
     * {@code malformed} (400) {@code Order cannot contain more than N identifiers}, which names nobody.
     */
    public void limitIdentifiersPerOrder(int max) {
        rules.add((e, req) -> e != Endpoint.NEW_ORDER || req.size() <= max ? Optional.empty()
                : Optional.of(problemResponse(problem("malformed", "Error creating new order :: Order cannot contain "
                        + "more than " + max + " identifiers", 400), 400, Map.of())));
    }

    /**
     * Finalize of an order containing any of {@code names} fails synchronously (403) as Boulder's CAA recheck does:
     * one name → a bare {@code caa} problem naming it in the detail; several → subproblems with identifiers.
     */
    public void failCaaRecheckAtFinalize(Set<String> names) {
        rules.add((e, req) -> {
            List<String> bad = hits(e, Endpoint.FINALIZE, req, names);
            if (bad.isEmpty()) {
                return Optional.empty();
            }
            String prefix = "Error finalizing order :: ";
            ObjectNode p;
            if (bad.size() == 1) {
                p = problem("caa", prefix + "rechecking caa: While processing CAA for " + bad.get(0)
                        + ": CAA record for " + bad.get(0) + " prevents issuance", 403);
            } else {
                p = problem("caa", prefix + "Rechecking CAA for \"" + bad.get(0) + "\" and " + (bad.size() - 1)
                        + " more identifiers failed. Refer to sub-problems for more information", 403);
                ArrayNode subs = p.putArray("subproblems");
                for (String n : bad) {
                    subs.add(subproblem("caa", prefix + "While processing CAA for " + n + ": CAA record for " + n
                            + " prevents issuance", 403, n));
                }
            }
            return Optional.of(problemResponse(p, 403, Map.of()));
        });
    }

    /** Finalize of an order containing any of {@code names} fails with a problem that names nobody (bisect). */
    public void failFinalizeNamingNobody(Set<String> names) {
        rules.add((e, req) -> hits(e, Endpoint.FINALIZE, req, names).isEmpty() ? Optional.empty()
                : Optional.of(problemResponse(problem("caa", "Error finalizing order :: rechecking caa: "
                        + "CAA check failed for one or more identifiers", 403), 403, Map.of())));
    }

    /**
     * Boulder with {@code CAARechecksFailOrder} + async finalize: finalize of an order containing any of
     * {@code names} is accepted, but the order (as returned by finalize and every later fetch) turns {@code invalid}
     * with a {@code caa} problem in {@code order.error} (one name: in the detail; several: subproblems).
     */
    public void failCaaRecheckAfterFinalize(Set<String> names) {
        asyncCaaFailures.addAll(names);
    }

    /** New-order with any of {@code names} is refused by the failed-authorizations limit, 429 + Retry-After. */
    public void rateLimitAtNewOrder(Set<String> names, Duration retryAfter) {
        rules.add((e, req) -> {
            List<String> bad = hits(e, Endpoint.NEW_ORDER, req, names);
            if (bad.isEmpty()) {
                return Optional.empty();
            }
            String when = Instant.now().plus(retryAfter).toString();
            ObjectNode p = problem("rateLimited", "too many failed authorizations (5) for \"" + bad.get(0)
                    + "\" in the last 1h0m0s, retry after " + when
                    + ": see https://letsencrypt.org/docs/rate-limits/#authorization-failures-per-hostname-per-account",
                    429);
            return Optional.of(problemResponse(p, 429, Map.of("Retry-After", Long.toString(retryAfter.toSeconds()),
                    "Link", "<https://letsencrypt.org/docs/rate-limits>;rel=\"help\"")));
        });
    }

    /**
     * New-order with any of {@code names} is refused by the certificates-per-registered-domain limit of
     * {@code registeredDomain}: 429 + Retry-After, Boulder's wording.
     */
    public void certificatesPerDomainLimitAtNewOrder(String registeredDomain, Set<String> names, Duration retryAfter) {
        rules.add((e, req) -> hits(e, Endpoint.NEW_ORDER, req, names).isEmpty() ? Optional.empty()
                : Optional.of(rateLimited("too many certificates (50) already issued for \"" + registeredDomain
                        + "\" in the last 168h0m0s, retry after " + boulderTime(retryAfter) + ": see "
                        + "https://letsencrypt.org/docs/rate-limits/#new-certificates-per-registered-domain", retryAfter)));
    }

    /** The next {@code times} new orders are refused by the account's new-orders limit: 429 + Retry-After. */
    public void newOrdersLimit(int times, Duration retryAfter) {
        AtomicInteger left = new AtomicInteger(times);
        rules.add((e, req) -> e == Endpoint.NEW_ORDER && left.getAndDecrement() > 0
                ? Optional.of(rateLimited("too many new orders (300) from this account in the last 3h0m0s, retry after "
                        + boulderTime(retryAfter) + ": see https://letsencrypt.org/docs/rate-limits/#new-orders-per-account",
                        retryAfter))
                : Optional.empty());
    }

    /** New-order with any of {@code names} is refused by the certificates-per-exact-set limit: 429 + Retry-After. */
    public void exactSetLimitAtNewOrder(Set<String> names, Duration retryAfter) {
        rules.add((e, req) -> hits(e, Endpoint.NEW_ORDER, req, names).isEmpty() ? Optional.empty()
                : Optional.of(rateLimited("too many certificates (5) already issued for this exact set of identifiers "
                        + "in the last 168h0m0s, retry after " + boulderTime(retryAfter) + ": see "
                        + "https://letsencrypt.org/docs/rate-limits/#new-certificates-per-exact-set-of-hostnames",
                        retryAfter)));
    }

    private static Canned rateLimited(String detail, Duration retryAfter) {
        return problemResponse(problem("rateLimited", detail, 429), 429, Map.of("Retry-After",
                Long.toString(retryAfter.toSeconds()), "Link", "<https://letsencrypt.org/docs/rate-limits>;rel=\"help\""));
    }

    /** Boulder's {@code retry after} time format: {@code 2026-08-30 10:00:00 UTC}. */
    private static String boulderTime(Duration from) {
        return java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
                .withZone(java.time.ZoneOffset.UTC).format(Instant.now().plus(from));
    }

    /** New-order with any of {@code names} is refused as paused: 429 without Retry-After, naming an unpause URL. */
    public void pauseAtNewOrder(Set<String> names) {
        rules.add((e, req) -> {
            List<String> bad = hits(e, Endpoint.NEW_ORDER, req, names);
            if (bad.isEmpty()) {
                return Optional.empty();
            }
            ObjectNode p = problem("rateLimited", "Your account is temporarily prevented from requesting "
                    + "certificates for " + String.join(", ", bad) + " and possibly others. Please visit: "
                    + "https://portal.letsencrypt.test/sfe/v1/unpause?jwt=eyJhbGciOiJIUzI1NiJ9.e30.c2ln", 429);
            return Optional.of(problemResponse(p, 429, Map.of()));
        });
    }

    /** The next {@code times} requests to {@code endpoint} get the load balancer's non-JSON 503 with Retry-After. */
    public void unavailable(Endpoint endpoint, int times, Duration retryAfter) {
        AtomicInteger left = new AtomicInteger(times);
        rules.add((e, req) -> e == endpoint && left.getAndDecrement() > 0
                ? Optional.of(new Canned(503, "text/html", "<html><body><h1>503 Service Unavailable</h1></body></html>"
                        .getBytes(StandardCharsets.US_ASCII), Map.of("Retry-After",
                        Long.toString(retryAfter.toSeconds())), false))
                : Optional.empty());
    }

    /**
     * The next {@code times} requests to {@code endpoint} are answered only after {@code delay} (then forwarded as
     * usual): a CA slower than the client's timeout. The upstream may well act on a request the client gave up on.
     */
    public void slow(Endpoint endpoint, int times, Duration delay) {
        AtomicInteger left = new AtomicInteger(times);
        delays.add(e -> e == endpoint && left.getAndDecrement() > 0 ? Optional.of(delay) : Optional.empty());
    }

    /** The next {@code times} requests to {@code endpoint} are read, then the connection is closed without an answer. */
    public void reset(Endpoint endpoint, int times) {
        AtomicInteger left = new AtomicInteger(times);
        rules.add((e, req) -> e == endpoint && left.getAndDecrement() > 0 ? Optional.of(RESET) : Optional.empty());
    }

    /** The next {@code times} requests to {@code endpoint} get {@code serverInternal} (500, Retry-After: 60). */
    public void serverInternal(Endpoint endpoint, int times) {
        AtomicInteger left = new AtomicInteger(times);
        rules.add((e, req) -> e == endpoint && left.getAndDecrement() > 0
                ? Optional.of(problemResponse(problem("serverInternal", "Error creating new order", 500), 500,
                        Map.of("Retry-After", "60")))
                : Optional.empty());
    }

    /**
     * Advertises these profiles (name → description) in the directory's {@code meta.profiles}, as Let's Encrypt
     * does (Pebble 2.4.0 has none, and ignores a new order's {@code profile} field). Every new order's profile is
     * recorded ({@link #orderProfiles()}; "" for none).
     */
    public void advertiseProfiles(Map<String, String> advertised) {
        profiles = Map.copyOf(advertised);
    }

    /** The {@code profile} of each order the CA created through this proxy, in order ("" when it named none). */
    public List<String> orderProfiles() {
        return List.copyOf(orderProfiles);
    }

    /**
     * Advertises {@code renewalInfo} in the directory and answers every ARI query with this window. New orders
     * then get Boulder's {@code replaces} checks (as Let's Encrypt, which Pebble 2.4.0 does not know): the CertID
     * must be of a certificate downloaded through this proxy ({@code malformed} otherwise), share an identifier with
     * the order ({@code malformed}), and not be replaced by an earlier order already ({@code alreadyReplaced}, 409).
     * Every new order's {@code replaces} is recorded ({@link #replacements()}).
     */
    public void serveRenewalInfo(Instant windowStart, Instant windowEnd) {
        renewalWindow = Optional.of(new Instant[] {windowStart, windowEnd});
    }

    /**
     * One new order that carried {@code replaces}: the CertID, the order's names, the names of the certificate it
     * names (empty when no certificate with that CertID went through this proxy), and the status the proxy or the
     * CA answered.
     */
    public record Replacement(String replaces, Set<String> orderNames, Set<String> replacedNames, int status) {
        public boolean sharesAName() {
            return orderNames.stream().anyMatch(replacedNames::contains);
        }
    }

    /** The new orders that carried {@code replaces}, in order. */
    public List<Replacement> replacements() {
        return List.copyOf(replacements);
    }

    /** From now on the certificate of this CertID counts as replaced by an earlier order ({@code alreadyReplaced}). */
    public void markReplaced(String certId) {
        replaced.add(certId);
    }

    /** Orders the CA created without {@code replaces}. */
    public int newOrdersWithoutReplaces() {
        return newOrdersWithoutReplaces.get();
    }

    // --- plumbing ------------------------------------------------------------------------------------------------

    private static List<String> hits(Endpoint e, Endpoint wanted, Set<String> requestNames, Set<String> configured) {
        if (e != wanted) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String n : new TreeSet<>(requestNames)) {
            if (configured.contains(n)) {
                out.add(n);
            }
        }
        return out;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            Endpoint endpoint = classify(path);
            counts.computeIfAbsent(endpoint, k -> new AtomicInteger()).incrementAndGet();
            byte[] body = ex.getRequestBody().readAllBytes();
            if (endpoint == Endpoint.RENEWAL_INFO && renewalWindow.isPresent()) {
                send(ex, renewalInfo(renewalWindow.get()));
                return;
            }
            for (var d : delays) {
                Optional<Duration> delay = d.apply(endpoint);
                if (delay.isPresent()) {
                    injected.computeIfAbsent(endpoint, k -> new AtomicInteger()).incrementAndGet();
                    Thread.sleep(delay.get().toMillis());
                    break;
                }
            }
            Set<String> names = namesOf(endpoint, body);
            if (endpoint == Endpoint.NEW_ORDER && reuseOrders) {
                Optional<OrderMemo> existing = Optional.ofNullable(ordersByRequest.get(orderKey(body, names)))
                        .filter(o -> (o.status.equals("pending") || o.status.equals("ready"))
                                && o.expires.map(t -> t.isAfter(Instant.now())).orElse(true));
                if (existing.isPresent()) {
                    injected.computeIfAbsent(endpoint, k -> new AtomicInteger()).incrementAndGet();
                    reused.incrementAndGet();
                    send(ex, new Canned(201, "application/json", existing.get().body,
                            Map.of("Location", existing.get().location), true));
                    return;
                }
            }
            Optional<String> replaces = endpoint == Endpoint.NEW_ORDER ? replacesOf(body) : Optional.empty();
            if (replaces.isPresent() && renewalWindow.isPresent()) {
                Optional<Canned> refused = checkReplaces(replaces.get(), names);
                if (refused.isPresent()) {
                    injected.computeIfAbsent(endpoint, k -> new AtomicInteger()).incrementAndGet();
                    send(ex, refused.get());
                    return;
                }
            }
            for (Rule r : rules) {
                Optional<Canned> c = r.apply(endpoint, names);
                if (c.isPresent()) {
                    injected.computeIfAbsent(endpoint, k -> new AtomicInteger()).incrementAndGet();
                    if (c.get() == RESET) {
                        return; // closing the exchange before any response header closes the connection
                    }
                    send(ex, c.get());
                    return;
                }
            }
            java.util.concurrent.locks.Lock lock = switch (endpoint) {
                case NEW_ORDER -> pebbleLocks.writeLock();
                case AUTHORIZATION, CHALLENGE -> pebbleLocks.readLock();
                default -> null;
            };
            int status;
            if (lock == null) {
                status = forward(ex, endpoint, body, names);
            } else {
                lock.lockInterruptibly();
                try {
                    status = forward(ex, endpoint, body, names);
                } finally {
                    lock.unlock();
                }
            }
            // orders the CA created (a new-order Pebble refused for a bad nonce is sent again by acme4j)
            if (endpoint == Endpoint.NEW_ORDER && status == 201) {
                orderProfiles.add(payloadField(body, "profile").orElse(""));
                if (replaces.isEmpty()) {
                    newOrdersWithoutReplaces.incrementAndGet();
                }
            }
            if (replaces.isPresent()) {
                if (status == 201) {
                    replaced.add(replaces.get());
                }
                replacements.add(new Replacement(replaces.get(), names,
                        certificatesSeen.getOrDefault(replaces.get(), Set.of()), status));
            }
        } catch (RuntimeException | InterruptedException e) {
            byte[] msg = ("proxy failure: " + e).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(502, msg.length);
            ex.getResponseBody().write(msg);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Boulder's checks of {@code replaces} (wfe.go validateReplacementOrder), simplified: no account check. */
    private Optional<Canned> checkReplaces(String certId, Set<String> names) {
        Set<String> replacedNames = certificatesSeen.get(certId);
        Canned c = null;
        if (replacedNames == null) {
            c = problemResponse(problem("malformed", "while parsing ARI CertID an error occurred: no certificate "
                    + certId + " was issued here", 400), 400, Map.of());
        } else if (names.stream().noneMatch(replacedNames::contains)) {
            c = problemResponse(problem("malformed", "while checking that this order is a replacement: identifiers in "
                    + "this order do not match any identifiers in the certificate being replaced", 400), 400, Map.of());
        } else if (replaced.contains(certId)) {
            c = problemResponse(problem("alreadyReplaced", "cannot indicate an order replaces certificate with serial "
                    + "\"" + certId + "\", which already has a replacement order", 409), 409, Map.of());
        }
        if (c != null) {
            replacements.add(new Replacement(certId, names, replacedNames == null ? Set.of() : replacedNames, c.status()));
        }
        return Optional.ofNullable(c);
    }

    /** The {@code replaces} field of a new-order request's payload. */
    static Optional<String> replacesOf(byte[] body) {
        return payloadField(body, "replaces");
    }

    /** A text field of a JWS request's payload. */
    static Optional<String> payloadField(byte[] body, String field) {
        if (body.length == 0) {
            return Optional.empty();
        }
        String payload = Json.read(body).path("payload").asText("");
        if (payload.isEmpty()) {
            return Optional.empty();
        }
        JsonNode r = Json.read(Base64.getUrlDecoder().decode(payload)).path(field);
        return r.isTextual() ? Optional.of(r.asText()) : Optional.empty();
    }

    /** Remembers the ARI CertID and DNS names of a certificate chain downloaded through the proxy. */
    private void remember(byte[] pemChain) {
        try {
            var certs = java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificates(new java.io.ByteArrayInputStream(pemChain));
            if (!certs.isEmpty() && certs.iterator().next() instanceof java.security.cert.X509Certificate leaf) {
                Set<String> dns = new TreeSet<>();
                if (leaf.getSubjectAlternativeNames() != null) {
                    for (List<?> san : leaf.getSubjectAlternativeNames()) {
                        if (Integer.valueOf(2).equals(san.get(0))) {
                            dns.add(((String) san.get(1)).toLowerCase(Locale.ROOT));
                        }
                    }
                }
                certificatesSeen.put(org.shredzone.acme4j.toolbox.AcmeUtils.getRenewalUniqueIdentifier(leaf), dns);
            }
        } catch (java.security.cert.CertificateException | RuntimeException unreadable) {
            // not a certificate chain: nothing to remember
        }
    }

    private int forward(HttpExchange ex, Endpoint endpoint, byte[] body, Set<String> names)
            throws IOException, InterruptedException {
        URI target = upstream.resolve(ex.getRequestURI().getRawPath()
                + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery()));
        HttpRequest.Builder rb = HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30))
                .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Host", hostHeader());
        for (String h : List.of("Content-Type", "Accept", "User-Agent", "Accept-Language")) {
            String v = ex.getRequestHeaders().getFirst(h);
            if (v != null) {
                rb.header(h, v);
            }
        }
        HttpResponse<byte[]> resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
        Map<String, String> headers = new LinkedHashMap<>();
        resp.headers().map().forEach((k, vs) -> {
            String lk = k.toLowerCase(Locale.ROOT);
            if (!Set.of("content-length", "transfer-encoding", "connection", "date", ":status").contains(lk)) {
                headers.put(k, rewrite(String.join(", ", vs)));
            }
        });
        for (String link : resp.headers().allValues("Link")) {
            ex.getResponseHeaders().add("Link", rewrite(link));
        }
        headers.keySet().removeIf(k -> k.equalsIgnoreCase("Link"));
        byte[] out = resp.body();
        if (resp.statusCode() == 400
                && new String(out, StandardCharsets.UTF_8).contains("urn:ietf:params:acme:error:badNonce")) {
            nonceRejected.computeIfAbsent(endpoint, k -> new AtomicInteger()).incrementAndGet();
        }
        String ct = resp.headers().firstValue("Content-Type").orElse("");
        if (ct.startsWith("application/json") || ct.startsWith("application/problem+json")) {
            out = rewrite(new String(out, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
            if ((endpoint == Endpoint.ORDER || endpoint == Endpoint.FINALIZE) && !asyncCaaFailures.isEmpty()) {
                out = failOrderAsync(out);
            }
            if (endpoint == Endpoint.DIRECTORY && renewalWindow.isPresent()) {
                ObjectNode dir = (ObjectNode) Json.read(out);
                dir.put("renewalInfo", origin() + "/renewal-info");
                out = Json.write(dir).getBytes(StandardCharsets.UTF_8);
            }
            if (endpoint == Endpoint.DIRECTORY && !profiles.isEmpty()) {
                ObjectNode dir = (ObjectNode) Json.read(out);
                ObjectNode meta = dir.has("meta") ? (ObjectNode) dir.get("meta") : dir.putObject("meta");
                ObjectNode p = meta.putObject("profiles");
                profiles.forEach(p::put);
                out = Json.write(dir).getBytes(StandardCharsets.UTF_8);
            }
        }
        if (endpoint == Endpoint.CERTIFICATE && resp.statusCode() == 200) {
            remember(out);
        }
        if (resp.statusCode() < 300) {
            succeeded.computeIfAbsent(endpoint, k -> new AtomicInteger()).incrementAndGet();
            if (reuseOrders) {
                follow(endpoint, body, names, out, headers);
            }
            for (Hold h : holds) {
                if (h.take(endpoint)) {
                    h.hold();
                    break;
                }
            }
        }
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        boolean noBody = ex.getRequestMethod().equals("HEAD") || resp.statusCode() == 204 || out.length == 0;
        ex.sendResponseHeaders(resp.statusCode(), noBody ? -1 : out.length);
        if (!noBody) {
            ex.getResponseBody().write(out);
        }
        return resp.statusCode();
    }

    /** Remembers the orders the upstream created and follows their status (for {@link #reuseOrders()}). */
    private void follow(Endpoint endpoint, byte[] request, Set<String> names, byte[] answer, Map<String, String> headers) {
        if (endpoint == Endpoint.NEW_ORDER) {
            String location = headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase("Location"))
                    .map(Map.Entry::getValue).findFirst().orElse(null);
            if (location != null) {
                OrderMemo memo = new OrderMemo(location, answer);
                ordersByRequest.put(orderKey(request, names), memo);
                ordersById.put(lastSegment(location), memo);
            }
        } else if (endpoint == Endpoint.ORDER || endpoint == Endpoint.FINALIZE) {
            JsonNode n = Json.read(answer);
            if (n.has("identifiers")) {
                String path = n.path("finalize").asText("");
                Optional.ofNullable(ordersById.get(lastSegment(path))).ifPresent(m -> m.update(answer));
            }
        }
    }

    /** The account (JWS {@code kid}) and the sorted identifiers of a new-order request. */
    private static String orderKey(byte[] request, Set<String> names) {
        JsonNode jws = Json.read(request);
        JsonNode header = Json.read(Base64.getUrlDecoder().decode(jws.path("protected").asText("")));
        return header.path("kid").asText("") + " " + String.join(",", new TreeSet<>(names));
    }

    private static String lastSegment(String url) {
        return url.substring(url.lastIndexOf('/') + 1);
    }

    /** Turns a processing/valid order containing a configured name into an invalid one with order.error. */
    private byte[] failOrderAsync(byte[] orderJson) {
        JsonNode node = Json.read(orderJson);
        if (!(node instanceof ObjectNode order) || !order.has("identifiers")) {
            return orderJson;
        }
        String status = order.path("status").asText();
        if (!status.equals("processing") && !status.equals("valid")) {
            return orderJson;
        }
        Set<String> names = new TreeSet<>();
        for (JsonNode id : order.path("identifiers")) {
            names.add(id.path("value").asText().toLowerCase(Locale.ROOT));
        }
        List<String> bad = hits(Endpoint.ORDER, Endpoint.ORDER, names, asyncCaaFailures);
        if (bad.isEmpty()) {
            return orderJson;
        }
        ObjectNode p = bad.size() == 1
                ? problem("caa", "Error finalizing order :: rechecking caa: While processing CAA for " + bad.get(0)
                        + ": CAA record for " + bad.get(0) + " prevents issuance", 403)
                : problem("caa", "Error finalizing order :: Rechecking CAA for \"" + bad.get(0) + "\" and "
                        + (bad.size() - 1) + " more identifiers failed. Refer to sub-problems for more information", 403);
        if (bad.size() > 1) {
            ArrayNode subs = p.putArray("subproblems");
            for (String n : bad) {
                subs.add(subproblem("caa", "Error finalizing order :: While processing CAA for " + n
                        + ": CAA record for " + n + " prevents issuance", 403, n));
            }
        }
        order.put("status", "invalid");
        order.remove("certificate");
        order.set("error", p);
        return Json.write(order).getBytes(StandardCharsets.UTF_8);
    }

    private void send(HttpExchange ex, Canned c) throws IOException, InterruptedException {
        ex.getResponseHeaders().set("Content-Type", c.contentType());
        c.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        if (c.withNonce()) {
            freshNonce().ifPresent(n -> ex.getResponseHeaders().set("Replay-Nonce", n));
        }
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(c.status(), c.body().length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(c.body());
        }
    }

    private Optional<String> freshNonce() throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(upstream.resolve("/nonce-plz"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Host", hostHeader()).build();
        return http.send(req, HttpResponse.BodyHandlers.discarding()).headers().firstValue("Replay-Nonce");
    }

    private Canned renewalInfo(Instant[] window) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.putObject("suggestedWindow").put("start", window[0].toString()).put("end", window[1].toString());
        return new Canned(200, "application/json", Json.write(n).getBytes(StandardCharsets.UTF_8),
                Map.of("Retry-After", "21600"), false);
    }

    private static Canned problemResponse(ObjectNode p, int status, Map<String, String> headers) {
        return new Canned(status, "application/problem+json", Json.write(p).getBytes(StandardCharsets.UTF_8),
                headers, true);
    }

    private static ObjectNode problem(String type, String detail, int status) {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("type", ERR + type).put("detail", detail).put("status", status);
        return p;
    }

    private static ObjectNode subproblem(String type, String detail, int status, String name) {
        ObjectNode p = problem(type, detail, status);
        p.putObject("identifier").put("type", "dns").put("value", name);
        return p;
    }

    /** The names a request is about: new-order identifiers, or the CSR's DNS names at finalize. */
    static Set<String> namesOf(Endpoint e, byte[] body) {
        Set<String> out = new TreeSet<>();
        if ((e != Endpoint.NEW_ORDER && e != Endpoint.FINALIZE) || body.length == 0) {
            return out;
        }
        JsonNode jws = Json.read(body);
        String payload = jws.path("payload").asText("");
        if (payload.isEmpty()) {
            return out;
        }
        JsonNode p = Json.read(Base64.getUrlDecoder().decode(payload));
        if (e == Endpoint.NEW_ORDER) {
            for (JsonNode id : p.path("identifiers")) {
                out.add(id.path("value").asText().toLowerCase(Locale.ROOT));
            }
            return out;
        }
        try {
            PKCS10CertificationRequest csr = new PKCS10CertificationRequest(
                    Base64.getUrlDecoder().decode(p.path("csr").asText()));
            for (var attr : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
                Extensions exts = Extensions.getInstance(attr.getAttrValues().getObjectAt(0));
                GeneralNames sans = GeneralNames.fromExtensions(exts, Extension.subjectAlternativeName);
                if (sans != null) {
                    for (GeneralName gn : sans.getNames()) {
                        if (gn.getTagNo() == GeneralName.dNSName) {
                            out.add(gn.getName().toString().toLowerCase(Locale.ROOT));
                        }
                    }
                }
            }
        } catch (IOException bad) {
            // not a CSR: names nobody
        }
        return out;
    }

    static Endpoint classify(String path) {
        if (path.equals("/dir")) {
            return Endpoint.DIRECTORY;
        }
        for (var en : PREFIXES.entrySet()) {
            if (path.startsWith(en.getKey())) {
                return en.getValue();
            }
        }
        return Endpoint.OTHER;
    }

    /** Pebble 2.4.0's path prefixes. */
    private static final Map<String, Endpoint> PREFIXES = Map.of(
            "/nonce-plz", Endpoint.NONCE, "/sign-me-up", Endpoint.NEW_ACCOUNT, "/order-plz", Endpoint.NEW_ORDER,
            "/my-order/", Endpoint.ORDER, "/finalize-order/", Endpoint.FINALIZE, "/authZ/", Endpoint.AUTHORIZATION,
            "/chalZ/", Endpoint.CHALLENGE, "/certZ/", Endpoint.CERTIFICATE, "/renewal-info", Endpoint.RENEWAL_INFO);

    private String hostHeader() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    private String rewrite(String s) {
        return s.replace(upstream.toString(), origin());
    }

    private void checkHostHeaderAllowed() {
        try {
            HttpRequest.newBuilder(upstream).header("Host", "x");
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("BoulderProxy must forward the Host header (Pebble checks the JWS url "
                    + "against it): run the JVM with -Djdk.httpclient.allowRestrictedHeaders=host", e);
        }
    }

    @Override
    public void close() {
        holds.forEach(Hold::release);
        server.stop(0);
        executor.shutdownNow();
    }
}
