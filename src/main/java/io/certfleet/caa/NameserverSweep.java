package io.certfleet.caa;

import io.certfleet.model.NameserverAnswer;
import io.certfleet.model.PrecheckReason;
import org.xbill.DNS.CAARecord;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Asks every authoritative nameserver of each level's zone directly (RD clear) for the level's CAA set, because
 * the CA's resolvers (and its remote perspectives) may reach a different server than ours did.
 */
final class NameserverSweep {

    /** The sweep's finding: a problem reason (empty when all agree and answer) and every answer seen. */
    record Finding(Optional<PrecheckReason> problem, List<NameserverAnswer> answers, List<NameserverAnswer> bad) {
    }

    private record Zone(String name, List<String> hosts, Optional<String> failure) {
    }

    private final DnsClient client;
    private final RunCache cache;
    private final int port;
    private final Map<String, CompletableFuture<List<NameserverAnswer>>> perLevel = new ConcurrentHashMap<>();

    NameserverSweep(DnsClient client, RunCache cache, int port) {
        this.client = client;
        this.cache = cache;
        this.port = port;
    }

    CompletableFuture<Finding> sweep(List<String> levels) {
        List<CompletableFuture<List<NameserverAnswer>>> fs = levels.stream().map(this::level).toList();
        return CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<NameserverAnswer> all = new ArrayList<>();
            fs.forEach(f -> all.addAll(f.join()));
            return judge(all);
        });
    }

    static Finding judge(List<NameserverAnswer> all) {
        List<NameserverAnswer> failed = all.stream().filter(a -> !a.answered()).toList();
        List<NameserverAnswer> inconsistent = new ArrayList<>();
        Map<String, Set<List<String>>> sets = new java.util.LinkedHashMap<>();
        for (NameserverAnswer a : all) {
            if (a.answered()) {
                sets.computeIfAbsent(a.level(), k -> new HashSet<>()).add(a.records());
            }
        }
        for (NameserverAnswer a : all) {
            if (a.answered() && sets.get(a.level()).size() > 1) {
                inconsistent.add(a);
            }
        }
        if (!inconsistent.isEmpty()) {
            return new Finding(Optional.of(PrecheckReason.NS_INCONSISTENT), all, inconsistent);
        }
        if (!failed.isEmpty()) {
            return new Finding(Optional.of(PrecheckReason.NS_PARTIAL_FAILURE), all, failed);
        }
        return new Finding(Optional.empty(), all, List.of());
    }

    private CompletableFuture<List<NameserverAnswer>> level(String level) {
        return perLevel.computeIfAbsent(level, l -> zoneOf(l).thenCompose(zone -> askAll(l, zone)));
    }

    private CompletableFuture<Zone> zoneOf(String name) {
        return cache.ns(name).thenCompose(ns -> {
            if (ns.failure().isPresent()) {
                return CompletableFuture.completedFuture(new Zone(name, List.of(),
                        Optional.of("NS lookup for " + name + " failed: " + ns.failure().get())));
            }
            if (ns.apex()) {
                return CompletableFuture.completedFuture(new Zone(name, ns.hosts(), Optional.empty()));
            }
            int dot = name.indexOf('.');
            if (dot < 0) {
                return CompletableFuture.completedFuture(new Zone(name, List.of(),
                        Optional.of("no NS records found up to " + name)));
            }
            return zoneOf(name.substring(dot + 1));
        });
    }

    private CompletableFuture<List<NameserverAnswer>> askAll(String level, Zone zone) {
        if (zone.failure().isPresent()) {
            return CompletableFuture.completedFuture(List.of(new NameserverAnswer(level, zone.name(), "-", "-",
                    "NS_LOOKUP_FAILED", List.of())));
        }
        List<CompletableFuture<List<NameserverAnswer>>> perHost = new ArrayList<>();
        for (String host : zone.hosts()) {
            perHost.add(cache.addresses(host).thenCompose(addrs -> {
                if (addrs.isEmpty()) {
                    return CompletableFuture.completedFuture(List.of(new NameserverAnswer(level, zone.name(), host,
                            "-", "NO_ADDRESS", List.of())));
                }
                List<CompletableFuture<NameserverAnswer>> asks = new ArrayList<>();
                for (InetAddress a : addrs) {
                    asks.add(ask(level, zone.name(), host, new InetSocketAddress(a, port)));
                }
                return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
                        .thenApply(v -> asks.stream().map(CompletableFuture::join).toList());
            }));
        }
        return CompletableFuture.allOf(perHost.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<NameserverAnswer> out = new ArrayList<>();
            perHost.forEach(f -> out.addAll(f.join()));
            return out;
        });
    }

    private CompletableFuture<NameserverAnswer> ask(String level, String zone, String host, InetSocketAddress addr) {
        return client.queryDirect(addr, level, Type.CAA).thenApply(ex -> {
            String outcome;
            List<String> records = new ArrayList<>();
            if (ex.timedOut()) {
                outcome = "TIMEOUT";
            } else if (ex.response().isEmpty()) {
                outcome = "ERROR";
            } else {
                Message m = ex.response().get();
                int rc = m.getRcode();
                if (m.getHeader().getFlag(Flags.TC)) {
                    outcome = "TRUNCATED";
                } else if ((rc == Rcode.NOERROR || rc == Rcode.NXDOMAIN) && !m.getHeader().getFlag(Flags.AA)) {
                    outcome = "NOT_AUTHORITATIVE";
                } else {
                    outcome = Rcode.string(rc);
                    for (Record r : m.getSection(Section.ANSWER)) {
                        if (r instanceof CAARecord || r.getType() == Type.CNAME) {
                            records.add(AnswerClassifier.text(r));
                        }
                    }
                    records.sort(null);
                }
            }
            return new NameserverAnswer(level, zone, host, DnsClient.label(addr), outcome, records);
        });
    }
}
