package io.certfleet.caa;

import org.xbill.DNS.ARecord;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The answers of one run, keyed by (name, type), as futures: a parent shared by many names ({@code com},
 * {@code example.com}) is asked once, also when its children ask at the same moment. Holds classified answers,
 * not messages, so a run of tens of thousands of names stays small.
 */
final class RunCache {

    /** The NS set at a name, or why it could not be read. */
    record NsSet(boolean apex, List<String> hosts, Optional<String> failure) {
    }

    private final DnsClient client;
    private final Map<String, CompletableFuture<LevelAnswer>> caa = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<NsSet>> ns = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<List<InetAddress>>> addresses = new ConcurrentHashMap<>();

    RunCache(DnsClient client) {
        this.client = client;
    }

    CompletableFuture<LevelAnswer> caa(String name) {
        return caa.computeIfAbsent(name, n -> client.query(n, Type.CAA)
                .thenApply(ex -> AnswerClassifier.classifyCaa(n, ex, client.perTry())));
    }

    CompletableFuture<NsSet> ns(String name) {
        return ns.computeIfAbsent(name, n -> client.query(n, Type.NS).thenApply(ex -> nsSet(n, ex)));
    }

    CompletableFuture<List<InetAddress>> addresses(String host) {
        return addresses.computeIfAbsent(host, h -> {
            CompletableFuture<List<InetAddress>> v4 = client.query(h, Type.A).thenApply(RunCache::addressList);
            CompletableFuture<List<InetAddress>> v6 = client.query(h, Type.AAAA).thenApply(RunCache::addressList);
            return v4.thenCombine(v6, (a, b) -> {
                List<InetAddress> all = new ArrayList<>(a);
                all.addAll(b);
                return List.copyOf(all);
            });
        });
    }

    int size() {
        return caa.size() + ns.size() + addresses.size();
    }

    private static NsSet nsSet(String name, Exchange ex) {
        if (ex.response().isEmpty()) {
            return new NsSet(false, List.of(), Optional.of(ex.timedOut() ? "TIMEOUT" : "ERROR"));
        }
        Message m = ex.response().get();
        if (m.getRcode() != Rcode.NOERROR && m.getRcode() != Rcode.NXDOMAIN) {
            return new NsSet(false, List.of(), Optional.of(Rcode.string(m.getRcode())));
        }
        Name owner = Name.fromConstantString(name + ".");
        List<String> hosts = new ArrayList<>();
        for (Record r : m.getSection(Section.ANSWER)) {
            if (r instanceof NSRecord n && r.getName().equals(owner)) {
                String h = n.getTarget().toString(true).toLowerCase(java.util.Locale.ROOT);
                if (!hosts.contains(h)) {
                    hosts.add(h);
                }
            }
        }
        hosts.sort(null);
        return new NsSet(!hosts.isEmpty(), hosts, Optional.empty());
    }

    private static List<InetAddress> addressList(Exchange ex) {
        List<InetAddress> out = new ArrayList<>();
        ex.response().ifPresent(m -> {
            for (Record r : m.getSection(Section.ANSWER)) {
                if (r instanceof ARecord a) {
                    out.add(a.getAddress());
                } else if (r instanceof AAAARecord a) {
                    out.add(a.getAddress());
                }
            }
        });
        return out;
    }
}
