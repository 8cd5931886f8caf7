package io.certfleet.caa;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;
import org.xbill.DNS.WireParseException;

import java.io.EOFException;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link UdpTransport} against a scripted UDP server on loopback: every query arrives as a real datagram and the
 * script decides what goes back (the right answer, a forged one, garbage, nothing).
 */
class UdpTransportTest {

    private final ExecutorService completions = Executors.newFixedThreadPool(2);
    private final List<AutoCloseable> closeLater = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closeLater) {
            c.close();
        }
        completions.shutdownNow();
    }

    /** A UDP server whose reply to each query is up to the test. */
    private static final class Script implements AutoCloseable {
        record Received(Message query, SocketAddress from) {
        }

        final DatagramSocket socket;
        final List<Received> received = new CopyOnWriteArrayList<>();
        final Set<Integer> sourcePorts = ConcurrentHashMap.newKeySet();
        final Thread thread;
        volatile BiConsumer<Script, Received> onQuery;

        Script(BiConsumer<Script, Received> onQuery) throws SocketException {
            this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            this.onQuery = onQuery;
            this.thread = new Thread(this::serve, "scripted-dns");
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        private void serve() {
            byte[] buf = new byte[65535];
            while (!socket.isClosed()) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                    Message q = new Message(java.util.Arrays.copyOf(p.getData(), p.getLength()));
                    Received r = new Received(q, p.getSocketAddress());
                    sourcePorts.add(p.getPort());
                    received.add(r);
                    onQuery.accept(this, r);
                } catch (IOException e) {
                    return;
                }
            }
        }

        void reply(Received to, byte[] wire) {
            try {
                socket.send(new DatagramPacket(wire, wire.length, to.from()));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The right answer: an A record whose address encodes the query's first label length. */
        void answer(Received to) {
            reply(to, answerTo(to.query(), to.query().getQuestion().getName()).toWire());
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    static Message answerTo(Message q, Name owner) {
        Message a = new Message(q.getHeader().getID());
        a.getHeader().setFlag(Flags.QR);
        a.getHeader().setFlag(Flags.RD);
        a.getHeader().setFlag(Flags.RA);
        a.addRecord(Record.newRecord(owner, q.getQuestion().getType(), DClass.IN), Section.QUESTION);
        try {
            a.addRecord(new ARecord(owner, DClass.IN, 60, InetAddress.getByName("127.0.0." + (owner.labels() % 250))),
                    Section.ANSWER);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return a;
    }

    private Script script(BiConsumer<Script, Script.Received> onQuery) throws SocketException {
        Script s = new Script(onQuery);
        closeLater.add(s);
        return s;
    }

    /** Answers every query except those whose name starts with "dropped" (a server that loses those). */
    private static BiConsumer<Script, Script.Received> answerAllButDropped() {
        return (sc, r) -> {
            if (!r.query().getQuestion().getName().toString().startsWith("dropped")) {
                sc.answer(r);
            }
        };
    }

    private UdpTransport transport(Script s, Duration timeout, int maxInFlight, int sockets, int uses)
            throws IOException {
        UdpTransport t = new UdpTransport(s.address(), timeout, completions, maxInFlight, sockets, uses);
        closeLater.add(0, t);
        return t;
    }

    private static Message query(String name) {
        return DnsClient.newQuery(name, Type.A, true);
    }

    private static Name questionOf(CompletableFuture<Message> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS).getQuestion().getName();
    }

    @Test
    void answersArriveOutOfOrderAndEachReachesItsOwnQuery() throws Exception {
        List<Script.Received> held = Collections.synchronizedList(new ArrayList<>());
        Script s = script((sc, r) -> {
            held.add(r);
            if (held.size() == 50) { // answer in batches of 50, last first
                List<Script.Received> batch;
                synchronized (held) {
                    batch = new ArrayList<>(held);
                    held.clear();
                }
                Collections.reverse(batch);
                batch.forEach(sc::answer);
            }
        });
        UdpTransport t = transport(s, Duration.ofSeconds(5), 64, 4, 1000);
        List<CompletableFuture<Message>> fs = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            fs.add(t.send(query("host" + i + ".example.test")));
        }
        for (int i = 0; i < 500; i++) {
            Message m = fs.get(i).get(10, TimeUnit.SECONDS);
            assertThat(m.getQuestion().getName().toString()).isEqualTo("host" + i + ".example.test.");
            assertThat(m.getSection(Section.ANSWER)).hasSize(1);
        }
        assertThat(s.received).hasSize(500);
        // every query went out with EDNS0 (Boulder's 4096-byte buffer) and recursion desired
        assertThat(s.received).allSatisfy(r -> {
            assertThat(r.query().getOPT()).isNotNull();
            assertThat(r.query().getOPT().getPayloadSize()).isEqualTo(4096);
            assertThat(r.query().getHeader().getFlag(Flags.RD)).isTrue();
        });
        assertThat(t.inFlight()).isZero();
    }

    @Test
    void neverMoreQueriesOutstandingAtTheResolverThanTheCap() throws Exception {
        List<Script.Received> held = new CopyOnWriteArrayList<>();
        AtomicInteger outstanding = new AtomicInteger();
        AtomicInteger maxOutstanding = new AtomicInteger();
        Script s = script((sc, r) -> {
            maxOutstanding.accumulateAndGet(outstanding.incrementAndGet(), Math::max);
            held.add(r);
        });
        UdpTransport t = transport(s, Duration.ofSeconds(10), 16, 4, 1000);
        List<CompletableFuture<Message>> fs = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            fs.add(t.send(query("q" + i + ".example.test")));
        }
        waitFor(() -> s.received.size() >= 16);
        Thread.sleep(300); // room for any query that should not have gone out
        assertThat(s.received).hasSize(16);
        assertThat(t.inFlight()).isEqualTo(16);

        // from now on answer at once, and release what was held: the other 84 go out as places free up
        s.onQuery = (sc, r) -> {
            outstanding.decrementAndGet();
            sc.answer(r);
        };
        for (Script.Received r : held) {
            outstanding.decrementAndGet();
            s.answer(r);
        }
        for (CompletableFuture<Message> f : fs) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertThat(s.received).hasSize(100);
        assertThat(maxOutstanding.get()).isEqualTo(16);
        assertThat(t.inFlight()).isZero();
    }

    @Test
    void aDroppedQueryTimesOutFromWhenItWasSentAndFreesItsPlace() throws Exception {
        Script s = script(answerAllButDropped());
        UdpTransport t = transport(s, Duration.ofMillis(300), 1, 1, 1000);
        long t0 = System.nanoTime();
        CompletableFuture<Message> dropped = t.send(query("dropped.example.test"));
        CompletableFuture<Message> next = t.send(query("next.example.test"));

        assertThatThrownBy(() -> dropped.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SocketTimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        // the second query waited for the only place and then got its answer: its timeout had not run meanwhile
        assertThat(questionOf(next).toString()).isEqualTo("next.example.test.");
        assertThat(t.inFlight()).isZero();
    }

    @Test
    void aQuerySentToAnIdleTransportStillTimesOut() throws Exception {
        // with nothing outstanding the reader waits without a timeout; a new query must wake it to be swept
        Script s = script(answerAllButDropped());
        UdpTransport t = transport(s, Duration.ofMillis(200), 8, 1, 1000);
        t.send(query("first.example.test")).get(10, TimeUnit.SECONDS);
        for (int round = 0; round < 3; round++) {
            Thread.sleep(300); // idle
            CompletableFuture<Message> dropped = t.send(query("dropped" + round + ".example.test"));
            assertThatThrownBy(() -> dropped.get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(SocketTimeoutException.class);
            assertThat(questionOf(t.send(query("after" + round + ".example.test"))).toString())
                    .isEqualTo("after" + round + ".example.test.");
        }
        assertThat(t.inFlight()).isZero();
    }

    @Test
    void forgedAndStrayDatagramsAreIgnoredUntilTheRealAnswerComes() throws Exception {
        Script s = script((sc, r) -> {
            Message q = r.query();
            // same id, other question (a forgery or a confused server)
            sc.reply(r, answerTo(q, Name.fromConstantString("evil.example.test.")).toWire());
            // other id, right question
            Message stray = answerTo(q, q.getQuestion().getName());
            stray.getHeader().setID((q.getHeader().getID() + 1) & 0xffff);
            sc.reply(r, stray.toWire());
            // a query, not an answer (QR clear), with our id and question
            sc.reply(r, q.toWire());
            // shorter than a DNS header
            sc.reply(r, new byte[] {1, 2, 3});
            sc.answer(r);
        });
        UdpTransport t = transport(s, Duration.ofSeconds(5), 8, 1, 1000);
        Message m = t.send(query("real.example.test")).get(10, TimeUnit.SECONDS);
        assertThat(m.getQuestion().getName().toString()).isEqualTo("real.example.test.");
        assertThat(m.getHeader().getFlag(Flags.QR)).isTrue();
        assertThat(m.getSection(Section.ANSWER)).singleElement()
                .satisfies(rr -> assertThat(rr.getName().toString()).isEqualTo("real.example.test."));
    }

    @Test
    void onlyAForgedAnswerMeansATimeout() throws Exception {
        Script s = script((sc, r) ->
                sc.reply(r, answerTo(r.query(), Name.fromConstantString("evil.example.test.")).toWire()));
        UdpTransport t = transport(s, Duration.ofMillis(200), 8, 1, 1000);
        assertThatThrownBy(() -> t.send(query("victim.example.test")).get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(SocketTimeoutException.class);
    }

    @Test
    void garbageWithOurIdIsAParseErrorNotATimeout() throws Exception {
        Script s = script((sc, r) -> {
            int id = r.query().getHeader().getID();
            byte[] junk = new byte[20];
            junk[0] = (byte) (id >> 8);
            junk[1] = (byte) id;
            junk[2] = (byte) 0x80; // QR
            junk[5] = 1; // one question,
            junk[12] = 60; // whose first label claims 60 bytes of the 7 that follow
            sc.reply(r, junk);
        });
        UdpTransport t = transport(s, Duration.ofSeconds(5), 8, 1, 1000);
        assertThatThrownBy(() -> t.send(query("junk.example.test")).get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(WireParseException.class);
        assertThat(t.inFlight()).isZero();
    }

    @Test
    void aTruncatedAnswerIsReturnedAsItIs() throws Exception {
        Script s = script((sc, r) -> {
            Message a = answerTo(r.query(), r.query().getQuestion().getName());
            a.getHeader().setFlag(Flags.TC);
            sc.reply(r, a.toWire());
        });
        UdpTransport t = transport(s, Duration.ofSeconds(5), 8, 1, 1000);
        Message m = t.send(query("big.example.test")).get(10, TimeUnit.SECONDS);
        assertThat(m.getHeader().getFlag(Flags.TC)).isTrue();
        assertThat(s.received).hasSize(1); // no retry over TCP or UDP
    }

    @Test
    void socketsAreReplacedAfterTheirUsesSoSourcePortsKeepChanging() throws Exception {
        Script s = script(Script::answer);
        UdpTransport t = transport(s, Duration.ofSeconds(5), 8, 2, 5);
        for (int i = 0; i < 40; i++) {
            t.send(query("r" + i + ".example.test")).get(10, TimeUnit.SECONDS);
        }
        // 40 queries, 5 per socket: 8 sockets, each with its own kernel-chosen port
        assertThat(t.socketsOpened()).isEqualTo(8);
        assertThat(s.sourcePorts).hasSize(8);
        Set<Integer> ids = ConcurrentHashMap.newKeySet();
        s.received.forEach(r -> ids.add(r.query().getHeader().getID()));
        assertThat(ids).hasSizeGreaterThan(30); // random ids, not a counter starting at the same place per socket
    }

    @Test
    void closeFailsWhatIsWaitingAndWhatIsOutstanding() throws Exception {
        Script s = script((sc, r) -> { });
        UdpTransport t = transport(s, Duration.ofSeconds(30), 1, 1, 1000);
        CompletableFuture<Message> outstanding = t.send(query("a.example.test"));
        CompletableFuture<Message> waiting = t.send(query("b.example.test"));
        waitFor(() -> s.received.size() == 1);
        t.close();
        assertThatThrownBy(() -> outstanding.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(EOFException.class);
        assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(EOFException.class);
        assertThatThrownBy(() -> t.send(query("c.example.test")).get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(EOFException.class);
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(10);
        }
    }
}
