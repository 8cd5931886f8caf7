package io.certfleet.challenge;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.Http01Token;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The responder over a fake token source and a clock the tests move; real HTTP on 127.0.0.1. */
class Http01ResponderTest {
    private static final Instant T0 = Instant.parse("2025-06-01T10:00:00Z");
    private static final Duration TTL = Duration.ofSeconds(30);

    private final TestClock clock = new TestClock(T0);
    private final FakeTokens tokens = new FakeTokens();
    private Http01Responder responder;

    @BeforeEach
    void start() throws IOException {
        responder = Http01Responder.start(tokens, options(), clock);
    }

    @AfterEach
    void stop() {
        responder.close();
    }

    private static Http01Responder.Options options() {
        return new Http01Responder.Options(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8, TTL, 1000);
    }

    static Http01Token token(String token, Instant expires) {
        return new Http01Token(token, token + ".thumbprint-" + token.hashCode(), token.toLowerCase() + ".example.com",
                CaEnvironment.STAGING, Optional.of("https://ca.test/authz/" + token), expires);
    }

    private RawHttp.Response get(String token) throws IOException {
        return RawHttp.get(responder.port(), Http01Responder.PREFIX + token);
    }

    @Test
    void servesALiveTokenWithExactlyItsKeyAuthorizationAsPlainText() throws IOException {
        Http01Token t = tokens.add(token("LiveToken_-1", T0.plusSeconds(3600)));
        tokens.add(token("OtherToken", T0.plusSeconds(3600)));

        RawHttp.Response r = get("LiveToken_-1");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(t.keyAuthorization());
        assertThat(r.header("Content-Type")).isEqualTo("text/plain");
        assertThat(r.header("Content-Length")).isEqualTo(Integer.toString(t.keyAuthorization().length()));
    }

    @Test
    void headAnswersLikeGetWithoutABody() throws IOException {
        Http01Token t = tokens.add(token("HeadToken", T0.plusSeconds(3600)));

        RawHttp.Response r = RawHttp.request(responder.port(), "HEAD", Http01Responder.PREFIX + "HeadToken", "");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEmpty();
        assertThat(r.header("Content-Type")).isEqualTo("text/plain");
        assertThat(r.header("Content-Length")).isEqualTo(Integer.toString(t.keyAuthorization().length()));
    }

    @Test
    void unknownTokenIs404WithoutAnyTokensContent() throws IOException {
        Http01Token other = tokens.add(token("Known", T0.plusSeconds(3600)));

        RawHttp.Response r = get("Unknown");

        assertThat(r.status()).isEqualTo(404);
        assertThat(r.body()).doesNotContain(other.keyAuthorization()).doesNotContain("Exception");
    }

    @Test
    void neighboursOfALiveTokenPrefixesSuffixesAndOtherCaseAreNotServedEvenWhileItIsCached() throws IOException {
        Http01Token t = tokens.add(token("Neighbour_Tok-9", T0.plusSeconds(3600)));
        assertThat(get("Neighbour_Tok-9").status()).isEqualTo(200); // now cached
        for (String near : List.of("Neighbour_Tok-", "N", "Neighbour_Tok-9X", "neighbour_tok-9", "NEIGHBOUR_TOK-9",
                "Neighbour_Tok-9%20", "Neighbour_Tok-9.", "Neighbour_Tok-9\u00a0", "Neighbour_Tok-9*", "*", "%")) {
            RawHttp.Response r = get(near);
            assertThat(r.status()).as(near).isIn(400, 404);
            assertThat(r.body()).as(near).doesNotContain(t.keyAuthorization());
        }
        assertThat(get("Neighbour_Tok-9").body()).isEqualTo(t.keyAuthorization());
    }

    @Test
    void expiredTokenIs404EvenWhileCached() throws IOException {
        tokens.add(token("ShortLived", T0.plusSeconds(10)));
        assertThat(get("ShortLived").status()).isEqualTo(200); // now cached, TTL 30 s > the 10 s left

        clock.advance(Duration.ofSeconds(10));

        assertThat(get("ShortLived").status()).isEqualTo(404);
    }

    @Test
    void tokenAlreadyExpiredIsNeverServed() throws IOException {
        tokens.add(token("Stale", T0));
        assertThat(get("Stale").status()).isEqualTo(404);
        assertThat(responder.cachedTokens()).isZero();
    }

    @Test
    void positiveAnswersAreCachedForTheTtlThenReadAgain() throws IOException {
        tokens.add(token("Cached", T0.plusSeconds(3600)));

        for (int i = 0; i < 5; i++) {
            assertThat(get("Cached").status()).isEqualTo(200);
        }
        assertThat(tokens.lookups.get()).isEqualTo(1);

        clock.advance(TTL);
        assertThat(get("Cached").status()).isEqualTo(200);
        assertThat(tokens.lookups.get()).isEqualTo(2);
    }

    @Test
    void negativeAnswersAreNotCached() throws IOException {
        assertThat(get("NotYet").status()).isEqualTo(404);
        tokens.add(token("NotYet", T0.plusSeconds(3600)));
        assertThat(get("NotYet").status()).isEqualTo(200);
    }

    @Test
    void withdrawnTokenIs404AtOnceWhenInvalidated() throws IOException {
        tokens.add(token("Withdrawn", T0.plusSeconds(3600)));
        assertThat(get("Withdrawn").status()).isEqualTo(200);

        tokens.remove("Withdrawn");
        assertThat(get("Withdrawn").status()).as("still cached: another node's withdrawal").isEqualTo(200);
        responder.invalidate("Withdrawn");

        assertThat(get("Withdrawn").status()).isEqualTo(404);
    }

    @Test
    void aLookupThatStraddlesAWithdrawalDoesNotCacheTheWithdrawnToken() throws Exception {
        tokens.add(token("Racy", T0.plusSeconds(3600)));
        CountDownLatch inLookup = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        tokens.beforeAnswer = () -> {
            inLookup.countDown();
            await(release);
        };
        ExecutorService client = Executors.newSingleThreadExecutor();
        try {
            Future<RawHttp.Response> first = client.submit(() -> get("Racy"));
            assertThat(inLookup.await(5, TimeUnit.SECONDS)).isTrue();
            // the lookup has read the row; now the token is withdrawn and invalidated before it answers
            tokens.remove("Racy");
            responder.invalidate("Racy");
            tokens.beforeAnswer = () -> { };
            release.countDown();
            assertThat(first.get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
        } finally {
            client.shutdownNow();
        }

        assertThat(get("Racy").status()).isEqualTo(404);
    }

    @Test
    void otherPathsTraversalAndEncodedVariantsAre404() throws IOException {
        Http01Token t = tokens.add(token("Secret", T0.plusSeconds(3600)));
        String p = Http01Responder.PREFIX;
        List<String> targets = List.of(
                "/", "/index.html", "/.well-known/", p, p + "Secret/", p + "Secret/x", p + "Secret.txt",
                p + "../acme-challenge/Secret", p + "../../etc/passwd", p + "%2e%2e/acme-challenge/Secret",
                p + "%2E%2E%2Fx", p + "..%2f..%2fSecret", "/.well-known%2facme-challenge%2fSecret",
                "/.well-known/acme-challenge%2FSecret", p + "%53ecret", p + "Sec%00ret", "//.well-known/acme-challenge/Secret",
                p + "/Secret", "/.WELL-KNOWN/acme-challenge/Secret", "/x/../.well-known/acme-challenge/Secret",
                p + "Secret;x=1", p + "Sec ret");
        for (String target : targets) {
            RawHttp.Response r = RawHttp.get(responder.port(), target);
            assertThat(r.status()).as(target).isIn(400, 404);
            assertThat(r.body()).as(target).doesNotContain(t.keyAuthorization()).doesNotContain("Exception");
        }
        assertThat(get("Secret").status()).isEqualTo(200);
    }

    @Test
    void overLongTargetsAre414AndHugeHeadersAreRefusedWithoutHarm() throws IOException {
        Http01Token t = tokens.add(token("A".repeat(255), T0.plusSeconds(3600)));
        assertThat(get("A".repeat(255)).status()).as("the longest legal token").isEqualTo(200);

        RawHttp.Response longPath = get("A".repeat(600));
        assertThat(longPath.status()).isEqualTo(414);
        RawHttp.Response longQuery = RawHttp.get(responder.port(), Http01Responder.PREFIX + "A".repeat(255) + "?"
                + "q".repeat(400));
        assertThat(longQuery.status()).isEqualTo(414);
        RawHttp.Response hugePath = get("B".repeat(100_000));
        assertThat(hugePath.status()).isIn(-1, 400, 414);

        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            many.append("X-Filler-").append(i).append(": ").append("v".repeat(100)).append("\r\n");
        }
        RawHttp.Response manyHeaders = RawHttp.request(responder.port(), "GET", Http01Responder.PREFIX + "Unknown",
                many.toString());
        assertThat(manyHeaders.status()).isIn(-1, 400, 404, 431);
        RawHttp.Response hugeHeader = RawHttp.request(responder.port(), "GET", Http01Responder.PREFIX + "Unknown",
                "X-Huge: " + "h".repeat(1_000_000) + "\r\n");
        assertThat(hugeHeader.status()).isIn(-1, 400, 404, 431);

        for (RawHttp.Response r : List.of(longPath, longQuery, hugePath, manyHeaders, hugeHeader)) {
            assertThat(r.body()).doesNotContain(t.keyAuthorization()).doesNotContain("Exception");
        }
        assertThat(get("A".repeat(255)).body()).isEqualTo(t.keyAuthorization());
    }

    @Test
    void otherMethodsAre405() throws IOException {
        tokens.add(token("Tok", T0.plusSeconds(3600)));
        for (String method : List.of("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get")) {
            RawHttp.Response r = RawHttp.request(responder.port(), method, Http01Responder.PREFIX + "Tok",
                    "Content-Length: 0\r\n");
            assertThat(r.status()).as(method).isEqualTo(405);
            assertThat(r.header("Allow")).isEqualTo("GET, HEAD");
            assertThat(r.body()).doesNotContain("Tok.");
        }
        RawHttp.Response withBody = RawHttp.send(responder.port(), ("POST " + Http01Responder.PREFIX + "Tok HTTP/1.1\r\n"
                + "Host: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello").getBytes(StandardCharsets.US_ASCII));
        assertThat(withBody.status()).isEqualTo(405);
        assertThat(tokens.lookups.get()).isZero();
    }

    @Test
    void healthzIsOkWithoutTouchingTheTokenSource() throws IOException {
        tokens.failure = new IllegalStateException("database down");
        RawHttp.Response r = RawHttp.get(responder.port(), "/healthz");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok\n");
        assertThat(tokens.lookups.get()).isZero();
    }

    @Test
    void databaseFailureIs503ButACachedAnswerLivesOnlyForTheTtl() throws IOException {
        Http01Token t = tokens.add(token("Cached", T0.plusSeconds(3600)));
        assertThat(get("Cached").status()).isEqualTo(200);
        tokens.failure = new IllegalStateException("connection refused: jdbc:postgresql://db:5432/certfleet");

        RawHttp.Response uncached = get("Other");
        assertThat(uncached.status()).isEqualTo(503);
        assertThat(uncached.body()).doesNotContain("connection refused").doesNotContain("Exception");
        assertThat(uncached.header("Retry-After")).isEqualTo("5");

        clock.advance(TTL.minusSeconds(1));
        assertThat(get("Cached").body()).isEqualTo(t.keyAuthorization());
        clock.advance(Duration.ofSeconds(1));
        assertThat(get("Cached").status()).isEqualTo(503);

        tokens.failure = null;
        assertThat(get("Cached").status()).isEqualTo(200);
    }

    @Test
    void aTokenSourceAnsweringWithAnotherTokenIsNotServed() throws IOException {
        Http01Token other = token("Other", T0.plusSeconds(3600));
        Http01Responder broken = Http01Responder.start((token, now) -> Optional.of(other), options(), clock);
        try {
            RawHttp.Response r = RawHttp.get(broken.port(), Http01Responder.PREFIX + "Asked");
            assertThat(r.status()).isEqualTo(404);
            assertThat(r.body()).doesNotContain(other.keyAuthorization());
        } finally {
            broken.close();
        }
    }

    @Test
    void manyConcurrentRequestsAreAllAnsweredCorrectly() throws Exception {
        int live = 40;
        Map<String, String> expected = new ConcurrentHashMap<>();
        for (int i = 0; i < live; i++) {
            Http01Token t = tokens.add(token("Concurrent" + i, T0.plusSeconds(3600)));
            expected.put(t.token(), t.keyAuthorization());
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            for (String round : List.of("cold", "warm")) {
                long start = System.nanoTime();
                List<String> wrong = concurrentRound(http, pool, 500, live, expected);
                long ms = Math.max(1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                System.out.printf("Http01ResponderTest: %s, 500 requests over 32 client threads in %d ms = %d"
                        + " requests/s%n", round, ms, 500_000L / ms);
                assertThat(wrong).isEmpty();
                assertThat(ms).isLessThan(20_000);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(tokens.lookups.get()).as("the cache absorbs repeats").isLessThan(1000);
        assertThat(RawHttp.get(responder.port(), "/healthz").status()).isEqualTo(200);
        assertThat(get("Concurrent0").body()).isEqualTo(expected.get("Concurrent0"));
    }

    /** @return a description of every wrong answer */
    private List<String> concurrentRound(HttpClient http, ExecutorService pool, int requests, int live,
            Map<String, String> expected) throws Exception {
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            String token = "Concurrent" + (i % (live + 10)); // one in five unknown
            results.add(pool.submit(() -> {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                + responder.port() + Http01Responder.PREFIX + token)).timeout(Duration.ofSeconds(10))
                        .build(), HttpResponse.BodyHandlers.ofString());
                String want = expected.get(token);
                int wantStatus = want == null ? 404 : 200;
                if (r.statusCode() != wantStatus || (want != null && !want.equals(r.body()))) {
                    return token + " -> " + r.statusCode() + " " + r.body();
                }
                return "";
            }));
        }
        List<String> wrong = new ArrayList<>();
        for (Future<String> f : results) {
            String outcome = f.get(20, TimeUnit.SECONDS);
            if (!outcome.isEmpty()) {
                wrong.add(outcome);
            }
        }
        return wrong;
    }

    @Test
    void whenTheQueueIsFullNewConnectionsAreClosedAndTheResponderSurvives() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Http01Responder oneThread = Http01Responder.start((token, now) -> {
            await(release);
            return Optional.empty();
        }, options().withThreads(1), clock);
        int connections = 200;
        int capacity = 1 + 128; // one running, the queue holds 128 per thread
        ExecutorService clients = Executors.newFixedThreadPool(connections);
        try {
            List<Future<Integer>> statuses = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                statuses.add(clients.submit(() -> RawHttp.get(oneThread.port(), Http01Responder.PREFIX + "Tok").status()));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (statuses.stream().filter(Future::isDone).count() < connections - capacity
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            release.countDown();
            Map<Integer, Integer> byStatus = new java.util.TreeMap<>();
            for (Future<Integer> f : statuses) {
                byStatus.merge(f.get(10, TimeUnit.SECONDS), 1, Integer::sum);
            }
            assertThat(byStatus).isEqualTo(Map.of(-1, connections - capacity, 404, capacity));
            assertThat(RawHttp.get(oneThread.port(), "/healthz").status()).isEqualTo(200);
        } finally {
            release.countDown();
            clients.shutdownNow();
            oneThread.close();
        }
    }

    @Test
    void closeStopsListeningWithinASecond() throws IOException {
        int port = responder.port();
        long start = System.nanoTime();
        responder.close();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1500));
        assertThatThrownBy(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            }
        }).isInstanceOf(ConnectException.class);
        responder.close(); // idempotent
    }

    @Test
    void optionsRejectNonsense() {
        assertThatThrownBy(() -> Http01Responder.Options.of("127.0.0.1", 0).withThreads(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("threads");
        assertThatThrownBy(() -> Http01Responder.Options.of("127.0.0.1", 0).withCacheTtl(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(Http01Responder.Options.of("0.0.0.0", 8402).threads()).isEqualTo(8);
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(5, TimeUnit.SECONDS)) {
                throw new IllegalStateException("latch timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The token source: a map that honours expiry like the database query, counts lookups and can fail. */
    static final class FakeTokens implements TokenLookup {
        final Map<String, Http01Token> byToken = new ConcurrentHashMap<>();
        final AtomicInteger lookups = new AtomicInteger();
        volatile RuntimeException failure;
        volatile Runnable beforeAnswer = () -> { };

        Http01Token add(Http01Token t) {
            byToken.put(t.token(), t);
            return t;
        }

        void remove(String token) {
            byToken.remove(token);
        }

        @Override
        public Optional<Http01Token> find(String token, Instant now) {
            lookups.incrementAndGet();
            RuntimeException f = failure;
            if (f != null) {
                throw f;
            }
            Optional<Http01Token> found = Optional.ofNullable(byToken.get(token))
                    .filter(t -> now.isBefore(t.expiresAt()));
            beforeAnswer.run();
            return found;
        }
    }

    /** A clock the test moves. */
    static final class TestClock extends Clock {
        private volatile Instant now;

        TestClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
