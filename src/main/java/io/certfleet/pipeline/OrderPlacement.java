package io.certfleet.pipeline;

import io.certfleet.acme.CaException;
import io.certfleet.acme.Keys;
import io.certfleet.acme.OrderState;
import io.certfleet.acme.RenewalIds;
import io.certfleet.model.Batch;
import io.certfleet.model.BatchMember;
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
    private final Clock clock;

    OrderPlacement(BatchStore batches, CertificateStore certificates, LimitGuard guard, Keys.Type keyType,
                   OrderWindow window, Clock clock) {
        this.window = window;
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
