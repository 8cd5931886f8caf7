package io.certfleet.caa;

import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.dnssec.ValidatingResolver;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The one long-lived DNS client of a {@link CaaChecker}: recursive queries (RD set, EDNS0 4096, DO clear unless we
 * validate ourselves) rotated over the configured resolvers, retried on timeouts only, over UDP (see below for the
 * one exception); and direct
 * queries (RD clear) to authoritative servers for the nameserver sweep.
 *
 * <p>Recursive queries go through a {@link UdpTransport} per resolver (a few long-lived sockets, a bound on the
 * queries in flight); with our own DNSSEC validation they go through dnsjava's {@code ValidatingResolver} over a
 * {@code SimpleResolver}, which also falls back to TCP for truncated answers as validation needs.
 */
final class DnsClient implements AutoCloseable {

    private static final int EDNS_PAYLOAD = 4096;

    private final List<Upstream> upstreams;
    private final Duration perTry;
    private final int tries;
    private final Executor executor;
    private final AtomicInteger rotation = new AtomicInteger();
    private final Map<InetSocketAddress, SimpleResolver> direct = new ConcurrentHashMap<>();

    private record Upstream(String label, Function<Message, CompletableFuture<Message>> sender,
                            Optional<UdpTransport> transport) {
    }

    DnsClient(List<InetSocketAddress> resolvers, Duration perTry, int tries, Optional<Path> dnssecAnchor,
              Executor executor) throws IOException {
        if (resolvers.isEmpty()) {
            throw new IllegalArgumentException("no resolvers");
        }
        this.perTry = perTry;
        this.tries = tries;
        this.executor = executor;
        List<Upstream> list = new ArrayList<>();
        try {
            for (InetSocketAddress a : resolvers) {
                if (dnssecAnchor.isPresent()) {
                    ValidatingResolver v = new ValidatingResolver(simple(a));
                    try (InputStream in = Files.newInputStream(dnssecAnchor.get())) {
                        v.loadTrustAnchors(in);
                    }
                    v.setTimeout(perTry);
                    list.add(new Upstream(label(a), q -> v.sendAsync(q, executor).toCompletableFuture(),
                            Optional.empty()));
                } else {
                    UdpTransport t = new UdpTransport(a, perTry, executor);
                    list.add(new Upstream(label(a), t::send, Optional.of(t)));
                }
            }
        } catch (IOException | RuntimeException e) {
            list.forEach(u -> u.transport().ifPresent(UdpTransport::close));
            throw e;
        }
        this.upstreams = List.copyOf(list);
    }

    private SimpleResolver simple(InetSocketAddress a) {
        SimpleResolver s = new SimpleResolver(a);
        s.setTimeout(perTry);
        s.setTCP(false);
        s.setIgnoreTruncation(true);
        s.setEDNS(0, EDNS_PAYLOAD, 0, List.of());
        return s;
    }

    static String label(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** A recursive query, rotated over the resolvers and retried on timeouts. */
    CompletableFuture<Exchange> query(String name, int type) {
        Message q = newQuery(name, type, true);
        int start = Math.floorMod(rotation.getAndIncrement(), upstreams.size());
        return attempt(q, start, 0);
    }

    private CompletableFuture<Exchange> attempt(Message q, int start, int done) {
        Upstream u = upstreams.get((start + done) % upstreams.size());
        int triesSoFar = done + 1;
        return send(u.sender(), q.clone(), u.label()).thenCompose(ex -> {
            if (ex.timedOut() && triesSoFar < tries) {
                return attempt(q, start, triesSoFar);
            }
            return CompletableFuture.completedFuture(
                    new Exchange(ex.server(), ex.response(), ex.timedOut(), ex.error(), triesSoFar));
        });
    }

    /** A query straight to one server, recursion not desired; retried on timeouts. */
    CompletableFuture<Exchange> queryDirect(InetSocketAddress server, String name, int type) {
        Message q = newQuery(name, type, false);
        SimpleResolver r = direct.computeIfAbsent(server, this::simple);
        return directAttempt(r, q, label(server), 1);
    }

    private CompletableFuture<Exchange> directAttempt(SimpleResolver r, Message q, String label, int n) {
        return send(m -> r.sendAsync(m, executor).toCompletableFuture(), q.clone(), label).thenCompose(ex -> {
            if (ex.timedOut() && n < tries) {
                return directAttempt(r, q, label, n + 1);
            }
            return CompletableFuture.completedFuture(
                    new Exchange(ex.server(), ex.response(), ex.timedOut(), ex.error(), n));
        });
    }

    private CompletableFuture<Exchange> send(Function<Message, CompletableFuture<Message>> sender, Message q,
                                             String label) {
        CompletableFuture<Message> f;
        try {
            f = sender.apply(q);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        return f.handle((m, t) -> {
            if (t == null) {
                return new Exchange(label, Optional.of(m), false, Optional.empty(), 1);
            }
            Throwable cause = unwrap(t);
            boolean timeout = cause instanceof SocketTimeoutException || cause instanceof TimeoutException;
            return new Exchange(label, Optional.empty(), timeout, timeout ? Optional.empty() : Optional.of(cause), 1);
        });
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static Message newQuery(String name, int type, boolean recursionDesired) {
        Name n;
        try {
            n = Name.fromString(name, Name.root);
        } catch (TextParseException e) {
            throw new IllegalArgumentException("not a DNS name: " + name, e);
        }
        Message q = Message.newQuery(Record.newRecord(n, type, DClass.IN));
        if (!recursionDesired) {
            q.getHeader().unsetFlag(Flags.RD);
        }
        return q;
    }

    Duration perTry() {
        return perTry;
    }

    int tries() {
        return tries;
    }

    @Override
    public void close() {
        upstreams.forEach(u -> u.transport().ifPresent(UdpTransport::close));
    }
}
