package io.certfleet.testsupport.dns;

import org.xbill.DNS.CAARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A programmable authoritative DNS server for tests, on a loopback address, UDP and TCP on the same port. Per name
 * it can serve records (CAA with any flags, CNAME, NS, A, DNSKEY, RRSIG…), answer with an rcode (optionally with an
 * Extended DNS Error), drop queries (timeouts) or set the TC bit. Unknown names get an authoritative NOERROR with
 * an empty answer. Answers follow CNAME chains inside its own data, like a recursive resolver would.
 */
public final class TestDnsServer implements AutoCloseable {

    private record Failure(int rcode, int edeCode, String edeText) {
    }

    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private final Map<String, List<Record>> records = new ConcurrentHashMap<>();
    private final Map<String, Failure> failures = new ConcurrentHashMap<>();
    private final Map<String, Boolean> dropped = new ConcurrentHashMap<>();
    private final Map<String, Boolean> truncated = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private volatile boolean dropAll;
    private volatile int servfailAfter = -1;
    private volatile int dropAfter = -1;
    private volatile boolean running = true;

    private TestDnsServer(DatagramSocket udp, ServerSocket tcp) {
        this.udp = udp;
        this.tcp = tcp;
        start("udp", this::serveUdp);
        start("tcp", this::serveTcp);
    }

    /** Starts a server on {@code address} at a free port. */
    public static TestDnsServer start(String address) throws IOException {
        IOException last = null;
        for (int i = 0; i < 20; i++) {
            DatagramSocket u = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(address), 0));
            try {
                return start(u, address, u.getLocalPort());
            } catch (IOException e) {
                u.close();
                last = e;
            }
        }
        throw last;
    }

    /** Starts a server on {@code address:port} (another loopback address can share a port). */
    public static TestDnsServer start(String address, int port) throws IOException {
        DatagramSocket u = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(address), port));
        try {
            return start(u, address, port);
        } catch (IOException e) {
            u.close();
            throw e;
        }
    }

    private static TestDnsServer start(DatagramSocket u, String address, int port) throws IOException {
        ServerSocket t = new ServerSocket();
        t.setReuseAddress(true);
        try {
            t.bind(new InetSocketAddress(InetAddress.getByName(address), port));
        } catch (IOException e) {
            t.close();
            throw e;
        }
        u.setReceiveBufferSize(1 << 20);
        return new TestDnsServer(u, t);
    }

    public int port() {
        return udp.getLocalPort();
    }

    public String address() {
        return udp.getLocalAddress().getHostAddress();
    }

    /** {@code address:port}, the form {@code CaaSettings.resolvers} takes. */
    public String hostPort() {
        return address() + ":" + port();
    }

    // ---- programming -------------------------------------------------------------------------------------------

    public TestDnsServer caa(String name, int flags, String tag, String value) {
        return record(new CAARecord(name(name), DClass.IN, 60, flags, tag, value));
    }

    public TestDnsServer cname(String name, String target) {
        return record(new CNAMERecord(name(name), DClass.IN, 60, name(target)));
    }

    /** An NS record for {@code zone} pointing at {@code host}, and an A record for {@code host}. */
    public TestDnsServer ns(String zone, String host, String address) {
        record(new NSRecord(name(zone), DClass.IN, 60, name(host)));
        return a(host, address);
    }

    public TestDnsServer a(String host, String address) {
        try {
            return record(new ARecord(name(host), DClass.IN, 60, InetAddress.getByName(address)));
        } catch (IOException e) {
            throw new IllegalArgumentException(address, e);
        }
    }

    public TestDnsServer record(Record r) {
        records.computeIfAbsent(key(r.getName().toString()), k -> new CopyOnWriteArrayList<>()).add(r);
        return this;
    }

    /** Every query for {@code name} (any type) gets {@code rcode}. */
    public TestDnsServer rcode(String name, int rcode) {
        failures.put(key(name), new Failure(rcode, -1, ""));
        return this;
    }

    /** Every query for {@code name} gets {@code rcode} with an Extended DNS Error option. */
    public TestDnsServer rcodeWithEde(String name, int rcode, int edeCode, String edeText) {
        failures.put(key(name), new Failure(rcode, edeCode, edeText));
        return this;
    }

    /** Queries for {@code name} get no answer at all. */
    public TestDnsServer drop(String name) {
        dropped.put(key(name), true);
        return this;
    }

    /** Nothing answers: every query is dropped (a dead server). */
    public TestDnsServer dropAll(boolean v) {
        dropAll = v;
        return this;
    }

    /** After {@code queries} more queries, every query is answered SERVFAIL (a resolver whose upstream broke). */
    public TestDnsServer servfailAllAfter(int queries) {
        servfailAfter = total.get() + queries;
        return this;
    }

    /** After {@code queries} more queries, nothing is answered any more (a resolver that stopped mid-run). */
    public TestDnsServer dropAllAfter(int queries) {
        dropAfter = total.get() + queries;
        return this;
    }

    /** UDP answers for {@code name} come back empty with the TC bit set (TCP answers in full). */
    public TestDnsServer truncate(String name) {
        truncated.put(key(name), true);
        return this;
    }

    public void clear() {
        records.clear();
        failures.clear();
        dropped.clear();
        truncated.clear();
        counts.clear();
        total.set(0);
        dropAll = false;
        servfailAfter = -1;
        dropAfter = -1;
    }

    /** How many queries arrived for {@code name}/{@code type}. */
    public int queries(String name, int type) {
        AtomicInteger c = counts.get(key(name) + "/" + type);
        return c == null ? 0 : c.get();
    }

    public int totalQueries() {
        return total.get();
    }

    // ---- serving -----------------------------------------------------------------------------------------------

    byte[] answer(byte[] in, boolean overUdp) {
        Message q;
        try {
            q = new Message(in);
        } catch (IOException e) {
            return null;
        }
        Record question = q.getQuestion();
        if (question == null) {
            return null;
        }
        String qname = key(question.getName().toString());
        int qtype = question.getType();
        int n = total.incrementAndGet();
        counts.computeIfAbsent(qname + "/" + qtype, k -> new AtomicInteger()).incrementAndGet();
        if (dropAll || dropped.containsKey(qname) || (dropAfter >= 0 && n > dropAfter)) {
            return null;
        }
        Message r = new Message(q.getHeader().getID());
        Header h = r.getHeader();
        h.setFlag(Flags.QR);
        h.setFlag(Flags.AA);
        if (q.getHeader().getFlag(Flags.RD)) {
            h.setFlag(Flags.RD);
            h.setFlag(Flags.RA);
        }
        r.addRecord(question, Section.QUESTION);
        OPTRecord qopt = q.getOPT();
        Failure f = servfailAfter >= 0 && n > servfailAfter ? new Failure(Rcode.SERVFAIL, -1, "")
                : failures.get(qname);
        List<EDNSOption> options = new ArrayList<>();
        if (f != null) {
            h.setRcode(f.rcode());
            h.unsetFlag(Flags.AA);
            if (f.edeCode() >= 0) {
                options.add(new ExtendedErrorCodeOption(f.edeCode(), f.edeText()));
            }
        } else if (overUdp && truncated.containsKey(qname)) {
            h.setFlag(Flags.TC);
        } else {
            fill(r, question.getName(), qtype);
        }
        if (qopt != null) {
            r.addRecord(new OPTRecord(4096, 0, 0, qopt.getFlags() & 0x8000, options), Section.ADDITIONAL);
        }
        return r.toWire(overUdp ? 65535 : 65535);
    }

    private void fill(Message r, Name qname, int qtype) {
        Name n = qname;
        for (int hop = 0; hop < 8; hop++) {
            List<Record> here = records.getOrDefault(key(n.toString()), List.of());
            boolean found = false;
            for (Record rec : here) {
                if (rec.getType() == qtype || qtype == Type.ANY) {
                    r.addRecord(rec, Section.ANSWER);
                    found = true;
                }
            }
            if (found) {
                addSigs(r, here, qtype);
                return;
            }
            Record cname = here.stream().filter(x -> x.getType() == Type.CNAME).findFirst().orElse(null);
            if (cname == null || qtype == Type.CNAME) {
                return;
            }
            r.addRecord(cname, Section.ANSWER);
            addSigs(r, here, Type.CNAME);
            n = ((CNAMERecord) cname).getTarget();
        }
    }

    private static void addSigs(Message r, List<Record> here, int type) {
        for (Record rec : here) {
            if (rec instanceof RRSIGRecord sig && sig.getTypeCovered() == type) {
                r.addRecord(sig, Section.ANSWER);
            }
        }
    }

    private void serveUdp() {
        byte[] buf = new byte[65535];
        while (running) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                udp.receive(p);
                byte[] in = java.util.Arrays.copyOf(p.getData(), p.getLength());
                byte[] out = answer(in, true);
                if (out != null) {
                    udp.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                }
            } catch (SocketException e) {
                return;
            } catch (IOException | RuntimeException e) {
                // keep serving
            }
        }
    }

    private void serveTcp() {
        while (running) {
            try {
                Socket s = tcp.accept();
                start("tcp-conn", () -> serveConnection(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serveConnection(Socket s) {
        try (s; DataInputStream in = new DataInputStream(s.getInputStream());
             DataOutputStream out = new DataOutputStream(s.getOutputStream())) {
            while (running) {
                int len = in.readUnsignedShort();
                byte[] q = new byte[len];
                in.readFully(q);
                byte[] a = answer(q, false);
                if (a != null) {
                    out.writeShort(a.length);
                    out.write(a);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // connection closed
        }
    }

    private void start(String kind, Runnable r) {
        Thread t = new Thread(r, "test-dns-" + kind + "-" + udp.getLocalAddress().getHostAddress());
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    static Name name(String s) {
        return Name.fromConstantString(s.endsWith(".") ? s : s + ".");
    }

    static String key(String s) {
        String k = s.toLowerCase(Locale.ROOT);
        return k.endsWith(".") && k.length() > 1 ? k.substring(0, k.length() - 1) : k;
    }

    @Override
    public void close() {
        running = false;
        udp.close();
        try {
            tcp.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** The rcode constants, re-exported for readable tests. */
    public static final int SERVFAIL = Rcode.SERVFAIL;
}
