package io.certfleet.bench;

import io.certfleet.batch.Bisection;
import io.certfleet.batch.Candidate;
import io.certfleet.batch.Packer;
import io.certfleet.batch.PlannedBatch;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * Orders spent on 1,000 names with k bad names, certfleet's planner against the seed's manual method, on the same
 * failures (same packing, same bad names). Pure simulation: the CA fails a set iff it holds a bad name.
 *
 * <ul>
 *   <li><b>certfleet</b>: every packed batch is rehearsed on staging. An <i>attributable</i> failure names every
 *   bad member at once (Boulder's subproblems at new-order; certfleet triggers all authorizations in parallel, so
 *   every failing validation is seen): quarantine them, rehearse the rest once more. A failure that names
 *   <i>nobody</i> is searched with {@link Bisection} exactly as the pipeline does. Each cleared set is one
 *   production order, which succeeds.</li>
 *   <li><b>manual</b> (the seed's runbook, straight to production, no staging): send the 100 names; an attributable
 *   failure names one bad name per order (a sequential client stops at the first failed authorization): remove
 *   it, resubmit the rest — one more order per bad name. An unattributable failure costs a whole-batch
 *   investigation: every remaining name of the batch is ordered alone (the bad ones fail), then the rest is
 *   resubmitted as one order.</li>
 * </ul>
 * Usage: {@code OrdersSimulation [seed]}. Prints BENCH rows.
 */
public final class OrdersSimulation {

    enum Mix { ATTRIBUTABLE, UNATTRIBUTABLE }

    record Tally(int staging, int production, int failedProduction) {
    }

    private OrdersSimulation() {
    }

    static List<List<Long>> batches(int n) {
        List<Candidate> c = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            c.add(new Candidate(i + 1, String.format("n%04d.example", i), Optional.empty()));
        }
        return new Packer(100, Packer.Grouping.KEEP_CUSTOMERS_TOGETHER).pack(c).stream()
                .map(PlannedBatch::members).map(m -> m.stream().map(Candidate::domainId).toList()).toList();
    }

    static Set<Long> pick(int n, int k, long seed) {
        Random r = new Random(seed);
        Set<Long> bad = new TreeSet<>();
        while (bad.size() < k) {
            bad.add(1 + (long) r.nextInt(n));
        }
        return bad;
    }

    /** certfleet's planner over one batch. */
    static final class Certfleet {
        final Set<Long> bad;
        final boolean attributable;
        int staging;
        int production;

        Certfleet(Set<Long> bad, boolean attributable) {
            this.bad = bad;
            this.attributable = attributable;
        }

        private boolean order(List<Long> set) {
            staging++;
            return set.stream().noneMatch(bad::contains);
        }

        void rehearse(List<Long> batch, List<Long> knownClean) {
            if (batch.isEmpty()) {
                return;
            }
            if (order(batch)) {
                production++;
                return;
            }
            List<Long> blamed = attributable ? batch.stream().filter(bad::contains).toList() : List.of();
            if (!blamed.isEmpty()) {
                rehearse(batch.stream().filter(m -> !bad.contains(m)).toList(), List.of());
                return;
            }
            if (batch.size() == 1) {
                return; // the only name is the culprit
            }
            Bisection.Next next = Bisection.start(batch, knownClean);
            while (next instanceof Bisection.Probe p) {
                next = order(p.members()) ? Bisection.probeCleared(p.state(), p.suspectsTested())
                        : Bisection.probeFailed(p.state(), p.suspectsTested());
            }
            Bisection.Found f = (Bisection.Found) next;
            if (f.restCleared()) {
                production++;
            } else {
                rehearse(f.rest(), f.verified());
            }
        }
    }

    static Tally certfleet(List<List<Long>> batches, Set<Long> bad, Mix mix) {
        Certfleet c = new Certfleet(bad, mix == Mix.ATTRIBUTABLE);
        batches.forEach(b -> c.rehearse(b, List.of()));
        return new Tally(c.staging, c.production, 0);
    }

    static Tally manual(List<List<Long>> batches, Set<Long> bad, Mix mix) {
        int orders = 0;
        int failed = 0;
        for (List<Long> batch : batches) {
            List<Long> set = new ArrayList<>(batch);
            while (!set.isEmpty()) {
                orders++;
                List<Long> culprits = set.stream().filter(bad::contains).toList();
                if (culprits.isEmpty()) {
                    break;
                }
                failed++;
                if (mix == Mix.ATTRIBUTABLE) {
                    set.remove(culprits.get(0));
                } else {
                    orders += set.size(); // each name alone
                    failed += culprits.size();
                    set.removeAll(culprits);
                }
            }
        }
        return new Tally(0, orders, failed);
    }

    public static void main(String[] args) {
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 7;
        int n = 1000;
        List<List<Long>> batches = batches(n);
        for (int k : new int[]{0, 10, 50}) {
            for (Mix mix : Mix.values()) {
                if (k == 0 && mix == Mix.UNATTRIBUTABLE) {
                    continue;
                }
                Set<Long> bad = pick(n, k, seed);
                Tally cf = certfleet(batches, bad, mix);
                Tally man = manual(batches, bad, mix);
                String what = k == 0 ? "k=0" : "k=" + k + " " + mix.name().toLowerCase();
                Report.row("orders, 1000 names, " + what + " (simulated)",
                        cf.production() + " prod (0 failed) + " + cf.staging() + " staging",
                        man.production() + " prod (" + man.failedProduction() + " failed)",
                        cf.production() / (double) man.production(),
                        "certfleet prod <= manual prod, 0 failed prod",
                        Report.verdict(cf.production() <= man.production()),
                        "same packing (" + batches.size() + " x 100) and bad names (seed " + seed + ")");
            }
        }
    }
}
