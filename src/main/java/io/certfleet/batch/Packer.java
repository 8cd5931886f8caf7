package io.certfleet.batch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Packs names into orders of at most {@code maxNames}, deterministically: the same candidates always give the
 * same batches, whatever order they came in.
 *
 * <ul>
 *   <li>{@link Grouping#KEEP_CUSTOMERS_TOGETHER}: a customer's names stay in one order when they fit (a customer
 *   with more than {@code maxNames} names fills whole orders first); customers are then placed first-fit
 *   decreasing, so orders are as full as the grouping allows.</li>
 *   <li>{@link Grouping#ONE_CERTIFICATE_PER_CUSTOMER}: every order holds one customer's names only.</li>
 * </ul>
 */
public final class Packer {
    /** How names are grouped into orders. */
    public enum Grouping { KEEP_CUSTOMERS_TOGETHER, ONE_CERTIFICATE_PER_CUSTOMER }

    private final int maxNames;
    private final Grouping grouping;

    public Packer(int maxNames, Grouping grouping) {
        if (maxNames < 1) {
            throw new IllegalArgumentException("maxNames must be at least 1, got " + maxNames);
        }
        this.maxNames = maxNames;
        this.grouping = grouping;
    }

    public List<PlannedBatch> pack(List<Candidate> candidates) {
        List<List<Candidate>> chunks = new ArrayList<>();
        for (List<Candidate> group : byCustomer(candidates).values()) {
            for (int i = 0; i < group.size(); i += maxNames) {
                chunks.add(group.subList(i, Math.min(group.size(), i + maxNames)));
            }
        }
        if (grouping == Grouping.ONE_CERTIFICATE_PER_CUSTOMER) {
            return chunks.stream().map(Packer::toBatch).toList();
        }
        // first-fit decreasing; ties broken by the chunk's first identifier, so the result is deterministic
        chunks.sort(Comparator.<List<Candidate>>comparingInt(List::size).reversed()
                .thenComparing(c -> c.get(0).groupKey()).thenComparing(c -> c.get(0).identifier()));
        List<List<Candidate>> bins = new ArrayList<>();
        for (List<Candidate> chunk : chunks) {
            List<Candidate> target = null;
            for (List<Candidate> bin : bins) {
                if (bin.size() + chunk.size() <= maxNames) {
                    target = bin;
                    break;
                }
            }
            if (target == null) {
                target = new ArrayList<>();
                bins.add(target);
            }
            target.addAll(chunk);
        }
        return bins.stream().map(Packer::toBatch).toList();
    }

    private static Map<String, List<Candidate>> byCustomer(List<Candidate> candidates) {
        Map<String, List<Candidate>> groups = new TreeMap<>();
        for (Candidate c : candidates) {
            groups.computeIfAbsent(c.groupKey(), k -> new ArrayList<>()).add(c);
        }
        groups.values().forEach(g -> g.sort(Comparator.comparing(Candidate::identifier)));
        return groups;
    }

    private static PlannedBatch toBatch(List<Candidate> members) {
        List<Candidate> sorted = new ArrayList<>(members);
        sorted.sort(Comparator.comparing(Candidate::identifier));
        String first = sorted.get(0).groupKey();
        boolean oneCustomer = sorted.stream().allMatch(c -> c.groupKey().equals(first));
        Optional<String> customer = oneCustomer && !first.isEmpty() ? Optional.of(first) : Optional.empty();
        return new PlannedBatch(customer, sorted);
    }
}
