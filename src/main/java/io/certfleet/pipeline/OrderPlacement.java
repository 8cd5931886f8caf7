package io.certfleet.pipeline;

import io.certfleet.acme.CaException;
import io.certfleet.acme.CaOrderTooLargeException;
import io.certfleet.acme.Keys;
import io.certfleet.acme.OrderState;
import io.certfleet.acme.RenewalIds;
import io.certfleet.model.Batch;
import io.certfleet.model.BatchMember;
import io.certfleet.model.BatchState;
import io.certfleet.model.BatchTransition;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.CaProblem;
import io.certfleet.model.OrderWindow;
import io.certfleet.store.BatchStore;
import io.certfleet.store.CertificateStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The first step of a batch: placing its order, only while the order window is open (the daemon's nightly
 * window; outside it the batch waits, planned, for the next opening). A production batch gets its certificate key (stored encrypted
 * before the CA can issue anything for it) and, when the CA offers ARI, the certificate it renews
 * ({@code replaces}); then the limits are checked again ({@link LimitGuard#beforeOrder}) and the order is placed and
 * recorded in the ledger.
 */
final class OrderPlacement {
    private static final Logger log = LoggerFactory.getLogger(OrderPlacement.class);

    private final BatchStore batches;
    private final CertificateStore certificates;
    private final LimitGuard guard;
    private final Keys.Type keyType;
    private final OrderWindow window;
    private final int maxNames;
    private final Clock clock;

    /** @param maxNames {@code batch.max-names}, named in the error when the CA allows fewer names per order */
    OrderPlacement(BatchStore batches, CertificateStore certificates, LimitGuard guard, Keys.Type keyType,
                   OrderWindow window, int maxNames, Clock clock) {
        this.window = window;
        this.maxNames = maxNames;
        this.batches = batches;
        this.certificates = certificates;
        this.guard = guard;
        this.keyType = keyType;
        this.clock = clock;
    }

    void order(Batch b, CaSession ca) throws CaException {
        Optional<Instant> closed = window.closedUntil(clock.instant());
        if (closed.isPresent()) {
            log.info("batch {}: the nightly order window is closed; the {} order waits until {}", b.id(),
                    b.environment().wire(), closed.get());
            batches.waitUntil(b.id(), closed.get(), "WINDOW_CLOSED", "new orders start only inside the nightly "
                    + "window (schedule.cron + schedule.window); it opens next at " + closed.get());
            return;
        }
        if (b.environment() == CaEnvironment.PRODUCTION && b.certKeyCiphertext().isEmpty()) {
            // the key exists in the database before the CA can issue anything for it
            KeyPair kp = Keys.generate(keyType);
            batches.storeCertificateKey(b.id(), certificates.encryptKey(b.id(), Keys.toPem(kp).toCharArray()),
                    keyType.name());
        }
        Instant now = clock.instant();
        Optional<CertificateStore.Replaceable> replaces = replaces(b, ca, now);
        boolean exempt = replaces.filter(r -> r.inWindow(now)).isPresent();
        if (!mayOrder(b, ca, exempt, now)) {
            return;
        }
        Optional<String> certId = replaces.flatMap(r -> r.ariCertId().or(() -> RenewalIds.of(r.chainPem())));
        OrderState o;
        try {
            o = ca.account().newOrderForIdentifiers(b.identifiers(), certId);
        } catch (CaOrderTooLargeException e) {
            if (!repack(b, ca, e)) {
                throw e; // not splittable here: the CA-fault path retries with backoff and finally gives the names back
            }
            return;
        } catch (CaException e) {
            if (certId.isPresent() && e.problem().filter(p -> p.isType("alreadyReplaced")).isPresent()) {
                // another order of ours already replaces it (e.g. one a crash left at the CA): order without
                log.warn("batch {}: the CA refused to let the order replace certificate {} ({}); ordering without "
                        + "replaces", b.id(), replaces.get().id(), e.getMessage());
                certificates.recordEvent(b.environment(), Optional.of(ca.accountId()), Optional.of(b.id()), "NEW_ORDER",
                        "replaces-refused", e.problem().map(CaProblem::type), Optional.ofNullable(e.getMessage()),
                        b.identifiers(), Optional.empty());
                batches.refuseReplaces(b.id(), String.valueOf(e.getMessage()));
                return;
            }
            throw e;
        }
        batches.markOrdered(b.id(), ca.accountId(), o.url().toString(), b.environment(), b.identifiers(), certId, exempt);
        log.info("batch {}: {} order placed for {} names at {}{}", b.id(), b.environment().wire(), b.members().size(),
                o.url(), certId.map(id -> " replacing certificate " + replaces.get().id() + " (ARI " + id + ")"
                        + (exempt ? ", inside its renewal window: exempt from the CA's limits" : "")).orElse(""));
    }

    /**
     * The CA allows fewer names per order than the batch holds: our packing's fault, never the names'. Nobody is
     * quarantined and nothing is bisected; the batch is split into staging batches of at most the CA's limit (a
     * production batch too, so production still only orders sets staging cleared exactly), and the operator is told
     * to lower {@code batch.max-names}, since admission packs by it. Returns false when the batch cannot be split
     * here (a bisection probe, whose names must stay together, or a batch already within the stated limit).
     */
    private boolean repack(Batch b, CaSession ca, CaOrderTooLargeException e) {
        int limit = e.maxIdentifiers();
        int n = b.members().size();
        certificates.recordEvent(b.environment(), Optional.of(ca.accountId()), Optional.of(b.id()), "NEW_ORDER",
                "order-too-large", e.problem().map(CaProblem::type), Optional.ofNullable(e.getMessage()),
                b.identifiers(), Optional.empty());
        log.error("batch {}: {} refuses orders of more than {} names and this one has {}; lower batch.max-names "
                + "to {} or less (batches are now packed to {}, the lower of batch.max-names and acme.profile's limit),"
                + " or every batch over it costs a refused new-order. No name is blamed for it",
                b.id(), b.environment().wire(), limit, n, limit, maxNames);
        if (limit < 1 || n <= limit || !b.probeIds().isEmpty()) {
            return false;
        }
        List<List<Long>> parts = parts(b.members().stream().map(BatchMember::domainId).toList(), limit);
        List<BatchTransition.NewBatch> children = parts.stream().map(ids -> new BatchTransition.NewBatch(
                CaEnvironment.STAGING, b.customer(), Optional.of(b.id()), Optional.empty(), ids, List.of(),
                Optional.empty(), b.attempts())).toList();
        String detail = b.environment().wire() + " allows at most " + limit + " names per order (batch.max-names is "
                + maxNames + "); " + n + " names split into " + parts.size() + " staging batches: "
                + e.problem().map(CaProblem::detail).orElse(String.valueOf(e.getMessage()));
        batches.apply(new BatchTransition(b.id(), BatchState.FAILED, Optional.of(ORDER_TOO_LARGE), Optional.of(detail),
                Map.of(), BatchTransition.Backoff.NONE, Map.of(), children, Optional.empty(), Optional.empty()));
        log.info("batch {}: {} names split into {} staging batches of at most {}", b.id(), n, parts.size(), limit);
        return true;
    }

    /** The batch's error type when the CA refused its order for holding too many names. */
    static final String ORDER_TOO_LARGE = "ORDER_TOO_LARGE";

    /** {@code ids} in order, cut into the fewest parts of at most {@code limit}, as even as possible. */
    static List<List<Long>> parts(List<Long> ids, int limit) {
        int count = (ids.size() + limit - 1) / limit;
        List<List<Long>> out = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < count; i++) {
            int size = (ids.size() - from + (count - i) - 1) / (count - i);
            out.add(List.copyOf(ids.subList(from, from + size)));
            from += size;
        }
        return out;
    }

    /**
     * The certificate a production order renews (ARI {@code replaces}), when the CA offers ARI: the one stored on
     * the batch, else one that shares names with it, stored before the order is placed.
     */
    private Optional<CertificateStore.Replaceable> replaces(Batch b, CaSession ca, Instant now) {
        if (b.environment() != CaEnvironment.PRODUCTION || !ca.renewalInfo()) {
            return Optional.empty();
        }
        BatchStore.Replaces stored = batches.replaces(b.id());
        if (stored.refused()) {
            return Optional.empty();
        }
        if (stored.certificateId().isPresent()) {
            return certificates.replaceableById(stored.certificateId().get());
        }
        Optional<CertificateStore.Replaceable> r = certificates.replaceable(b.id(),
                b.members().stream().map(BatchMember::domainId).toList(), now);
        r.ifPresent(x -> batches.setReplaces(b.id(), x.id()));
        return r;
    }

    /**
     * Keeps to the CA's limits before the CA has to say no ({@link LimitGuard#beforeOrder}): names whose own limits
     * forbid an order now leave the batch and wait; a batch over the account's new-order window (or a bisection
     * probe whose names must stay together) waits as a whole. Waiting for a limit is not a failure.
     */
    private boolean mayOrder(Batch b, CaSession ca, boolean exempt, Instant now) {
        LimitGuard.OrderCheck check = guard.beforeOrder(b, ca, exempt, now);
        if (check instanceof LimitGuard.Wait w) {
            log.warn("batch {}: {} order waits until {} ({}): {}", b.id(), b.environment().wire(), w.until(),
                    w.reason(), w.detail());
            batches.waitUntil(b.id(), w.until(), w.reason(), w.detail());
            return false;
        }
        if (check instanceof LimitGuard.TakeOut t) {
            int left = batches.holdMembers(b.id(), t.holds());
            log.warn("batch {}: {} name(s) wait for their limits before the {} order ({}); {} name(s) go on", b.id(),
                    t.holds().size(), b.environment().wire(), t.holds().values().stream()
                            .map(h -> h.reason().code()).distinct().toList(), left);
            return false;
        }
        return true;
    }

}
