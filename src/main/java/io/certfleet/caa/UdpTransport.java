package io.certfleet.caa;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.WireParseException;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * UDP queries to one recursive resolver over a few long-lived sockets, with a bound on the queries in flight.
 *
 * <p>Why not dnsjava's {@code SimpleResolver}: it opens, binds, connects, registers and closes a fresh socket for
 * every query, which made the pre-check latency-bound at about 0.6 × dnsperf's rate against the same resolver
 * (docs/benchmarks.md §1). Here every query is one {@code send} on a connected socket and one {@code read} by a single
 * reader thread; answers are matched by (socket, message id) and must repeat the question (RFC 5452 §9.1), so a late
 * or forged datagram is dropped and the query waits on for its real answer or its timeout.
 *
 * <p>Source-port randomisation is kept: each socket gets a kernel-chosen random ephemeral port and is replaced after
 * {@code usesPerSocket} queries; ids come from a {@link SecureRandom}.
 *
 * <p>At most {@code maxInFlight} queries are outstanding; the rest wait here, and their timeout starts only when they
 * are sent. A resolver that is sent more than it can hold drops queries silently (unbound lost 1.7 % at 512 and 9 % at
 * 1,024 outstanding in our measurements), and every drop costs a whole per-try timeout.
 *
 * <p>Truncated answers are returned as they are (TC set): the caller decides, and the pre-check treats them as Let's
 * Encrypt does. Thread-safe.
 */
final class UdpTransport implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(UdpTransport.class);

    /** Queries in flight per resolver when not configured otherwise: well below where unbound starts to drop. */
    static final int DEFAULT_MAX_IN_FLIGHT = 256;
    static final int DEFAULT_SOCKETS = 8;
    static final int DEFAULT_USES_PER_SOCKET = 2048;

    private static final int EDNS_PAYLOAD = 4096;
    private static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final int RECEIVE_BUFFER = 1 << 20;

    private final InetSocketAddress server;
    private final long timeoutNanos;
    private final int maxInFlight;
    private final int usesPerSocket;
    private final Executor completions;
    private final SecureRandom random = new SecureRandom();
    private final Selector selector;
    private final Thread reader;
    private final AtomicReferenceArray<Socket> slots;
    private final AtomicInteger nextSlot = new AtomicInteger();
    private final Queue<Socket> toRegister = new ConcurrentLinkedQueue<>();
    private final Set<Socket> retired = ConcurrentHashMap.newKeySet();
    private final Queue<Query> waiting = new ConcurrentLinkedQueue<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger socketsOpened = new AtomicInteger();
    private volatile boolean closed;
    /** Set by the reader before it waits without a timeout (nothing outstanding); a sender then wakes it. */
    private volatile boolean readerIdle;
    private final AtomicBoolean shut = new AtomicBoolean();

    /** One outstanding query. Its fields are written before it is published in a socket's pending map. */
    private static final class Query {
        final Message message;
        final CompletableFuture<Message> result = new CompletableFuture<>();
        Record question;
        Socket socket;
        int id;
        long deadline;

        Query(Message message) {
            this.message = message;
        }
    }

    private static final class Socket {
        final DatagramChannel channel;
        final AtomicInteger uses = new AtomicInteger();
        final Map<Integer, Query> pending = new ConcurrentHashMap<>();
        volatile long retiredAt;

        Socket(DatagramChannel channel) {
            this.channel = channel;
        }
    }

    UdpTransport(InetSocketAddress server, Duration timeout, Executor completions) throws IOException {
        this(server, timeout, completions, DEFAULT_MAX_IN_FLIGHT, DEFAULT_SOCKETS, DEFAULT_USES_PER_SOCKET);
    }

    /**
     * @param completions where answers complete their futures (never the reader thread, so a slow consumer cannot
     *                    hold up reading)
     */
    UdpTransport(InetSocketAddress server, Duration timeout, Executor completions, int maxInFlight, int sockets,
                 int usesPerSocket) throws IOException {
        if (maxInFlight < 1 || sockets < 1 || usesPerSocket < 1) {
            throw new IllegalArgumentException("maxInFlight, sockets and usesPerSocket must be positive");
        }
        if (server.isUnresolved()) {
            throw new IllegalArgumentException("unresolved resolver address " + server);
        }
        this.server = server;
        this.timeoutNanos = timeout.toNanos();
        this.maxInFlight = maxInFlight;
        this.usesPerSocket = usesPerSocket;
        this.completions = completions;
        this.slots = new AtomicReferenceArray<>(sockets);
        this.selector = Selector.open();
        this.reader = new Thread(this::readLoop, "caa-udp-" + DnsClient.label(server));
        reader.setDaemon(true);
        reader.start();
    }

    /** Sends {@code query} (a copy, with a fresh id and EDNS0 if it has none) and completes with the answer. */
    CompletableFuture<Message> send(Message query) {
        Query q = new Query(query);
        if (closed) {
            q.result.completeExceptionally(new EOFException("DNS transport to " + label() + " is closed"));
            return q.result;
        }
        waiting.add(q);
        admit();
        return q.result;
    }

    /** Queries outstanding at the resolver right now (for tests and diagnostics). */
    int inFlight() {
        return inFlight.get();
    }

    /** Sockets opened so far, replacements included. */
    int socketsOpened() {
        return socketsOpened.get();
    }

    /** Sends waiting queries while there is room. */
    private void admit() {
        while (!waiting.isEmpty()) {
            int n = inFlight.get();
            if (n >= maxInFlight) {
                return; // a completing query calls admit() again after it released its place
            }
            if (!inFlight.compareAndSet(n, n + 1)) {
                continue;
            }
            Query q = waiting.poll();
            if (q == null) {
                inFlight.decrementAndGet();
                continue;
            }
            transmit(q);
        }
    }

    private void transmit(Query q) {
        Socket s;
        try {
            s = socket();
        } catch (IOException e) {
            inFlight.decrementAndGet();
            complete(q, null, e);
            return;
        }
        Message m = q.message.clone();
        if (m.getOPT() == null) {
            m.addRecord(new OPTRecord(EDNS_PAYLOAD, 0, 0), Section.ADDITIONAL);
        }
        q.question = m.getQuestion();
        q.socket = s;
        q.deadline = System.nanoTime() + timeoutNanos;
        int id;
        do {
            id = random.nextInt(0x10000);
            q.id = id;
        } while (s.pending.putIfAbsent(id, q) != null);
        m.getHeader().setID(id);
        byte[] wire = m.toWire();
        try {
            int n = s.channel.write(ByteBuffer.wrap(wire));
            if (n < wire.length) {
                throw new EOFException("the socket's send buffer had no room for the query to " + label());
            }
            if (readerIdle) {
                selector.wakeup(); // the reader waits without a timeout: it must start sweeping for this query
            }
        } catch (IOException e) {
            finish(q, null, e);
        }
    }

    /** A socket with uses left, replacing a used-up one (which closes once its last query is answered). */
    private Socket socket() throws IOException {
        int i = Math.floorMod(nextSlot.getAndIncrement(), slots.length());
        while (true) {
            Socket s = slots.get(i);
            if (s != null && s.uses.incrementAndGet() <= usesPerSocket) {
                return s;
            }
            Socket fresh = open();
            fresh.uses.incrementAndGet();
            if (slots.compareAndSet(i, s, fresh)) {
                if (s != null) {
                    s.retiredAt = System.nanoTime();
                    retired.add(s);
                }
                toRegister.add(fresh);
                selector.wakeup();
                return fresh;
            }
            closeQuietly(fresh.channel);
        }
    }

    private Socket open() throws IOException {
        DatagramChannel ch = DatagramChannel.open(server.getAddress() instanceof java.net.Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        try {
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.SO_RCVBUF, RECEIVE_BUFFER);
            ch.connect(server); // binds a random ephemeral port; the kernel then drops datagrams from anyone else
            socketsOpened.incrementAndGet();
            return new Socket(ch);
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private void readLoop() {
        ByteBuffer buf = ByteBuffer.allocateDirect(65535);
        long nextSweep = System.nanoTime() + SWEEP_NANOS;
        try {
            while (!closed) {
                // an idle daemon's reader sleeps until a query is sent instead of waking 50 times a second;
                // readerIdle is set before inFlight is read, and a sender reads readerIdle after raising
                // inFlight, so one of the two always sees the other
                readerIdle = true;
                if (inFlight.get() == 0 && retired.isEmpty() && toRegister.isEmpty()) {
                    selector.select();
                } else {
                    selector.select(TimeUnit.NANOSECONDS.toMillis(SWEEP_NANOS));
                }
                readerIdle = false;
                for (Socket s; (s = toRegister.poll()) != null; ) {
                    try {
                        s.channel.register(selector, SelectionKey.OP_READ, s);
                    } catch (IOException e) {
                        LOG.debug("caa: cannot watch a socket to {}: {}", label(), e.toString());
                    }
                }
                for (SelectionKey k : selector.selectedKeys()) {
                    drainSocket((Socket) k.attachment(), buf);
                }
                selector.selectedKeys().clear();
                long now = System.nanoTime();
                if (now - nextSweep >= 0) {
                    sweep(now);
                    nextSweep = now + SWEEP_NANOS;
                }
            }
        } catch (IOException | ClosedSelectorException e) {
            if (!closed) {
                LOG.error("caa: the DNS reader for {} stopped: {}", label(), e.toString());
                closed = true;
            }
        } catch (RuntimeException | Error e) {
            LOG.error("caa: the DNS reader for {} failed", label(), e);
            closed = true;
        } finally {
            failAll(new EOFException("DNS transport to " + label() + " is closed"));
        }
    }

    private void drainSocket(Socket s, ByteBuffer buf) {
        while (true) {
            int n;
            try {
                buf.clear();
                n = s.channel.read(buf);
            } catch (IOException e) {
                // e.g. an ICMP port unreachable reported on the connected socket: it cannot say which query it
                // belongs to, so every query on this socket runs into its own timeout and is retried
                LOG.debug("caa: read from {} failed: {}", label(), e.toString());
                return;
            }
            if (n <= 0) {
                return;
            }
            if (n < 12) {
                continue;
            }
            int id = ((buf.get(0) & 0xff) << 8) | (buf.get(1) & 0xff);
            Query q = s.pending.get(id);
            if (q == null) {
                continue; // late (already timed out) or not ours
            }
            byte[] in = new byte[n];
            buf.get(0, in);
            Message answer;
            try {
                answer = new Message(in);
            } catch (IOException e) {
                finish(q, null, e instanceof WireParseException ? e
                        : new WireParseException("Error parsing message: " + e.getMessage()));
                continue;
            }
            if (!answer.getHeader().getFlag(Flags.QR) || !sameQuestion(q.question, answer.getQuestion())) {
                LOG.debug("caa: dropped a datagram from {} with id {} that does not answer {}", label(), id,
                        q.question);
                continue;
            }
            finish(q, answer, null);
        }
    }

    private static boolean sameQuestion(Record asked, Record got) {
        return got != null && asked.getName().equals(got.getName()) && asked.getType() == got.getType()
                && asked.getDClass() == got.getDClass();
    }

    private void sweep(long now) {
        List<Query> expired = new ArrayList<>();
        for (int i = 0; i < slots.length(); i++) {
            Socket s = slots.get(i);
            if (s != null) {
                collectExpired(s, now, expired);
            }
        }
        for (Socket s : retired) {
            collectExpired(s, now, expired);
            if (s.pending.isEmpty() && now - s.retiredAt > 2 * timeoutNanos) {
                retired.remove(s);
                closeQuietly(s.channel);
            }
        }
        for (Query q : expired) {
            finish(q, null, new SocketTimeoutException("Query timed out"));
        }
    }

    private static void collectExpired(Socket s, long now, List<Query> into) {
        for (Query q : s.pending.values()) {
            if (now - q.deadline >= 0) {
                into.add(q);
            }
        }
    }

    /** Ends an outstanding query once, frees its place and lets the next waiting query go. */
    private void finish(Query q, Message answer, Throwable failure) {
        if (!q.socket.pending.remove(q.id, q)) {
            return; // answered, timed out or failed already
        }
        inFlight.decrementAndGet();
        admit();
        complete(q, answer, failure);
    }

    private void complete(Query q, Message answer, Throwable failure) {
        Runnable r = () -> {
            if (failure != null) {
                q.result.completeExceptionally(failure);
            } else {
                q.result.complete(answer);
            }
        };
        try {
            completions.execute(r);
        } catch (RejectedExecutionException e) {
            r.run();
        }
    }

    private void failAll(Throwable why) {
        for (Query q; (q = waiting.poll()) != null; ) {
            complete(q, null, why);
        }
        List<Socket> all = new ArrayList<>(retired);
        for (int i = 0; i < slots.length(); i++) {
            Socket s = slots.get(i);
            if (s != null) {
                all.add(s);
            }
        }
        for (Socket s : all) {
            for (Query q : s.pending.values()) {
                finish(q, null, why);
            }
            closeQuietly(s.channel);
        }
    }

    private String label() {
        return DnsClient.label(server);
    }

    private static void closeQuietly(DatagramChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do: the socket is gone either way
        }
    }

    /** Fails every waiting and outstanding query and closes the sockets. */
    @Override
    public void close() {
        if (!shut.compareAndSet(false, true)) {
            return;
        }
        closed = true;
        selector.wakeup();
        try {
            reader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
