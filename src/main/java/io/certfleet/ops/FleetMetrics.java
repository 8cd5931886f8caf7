package io.certfleet.ops;

import io.certfleet.acme.RequestListener;
import io.certfleet.model.BatchState;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainState;
import io.certfleet.model.FleetSnapshot;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * certfleet's Prometheus metrics. Fleet-wide figures (names by state and reason, batches in flight, orders and
 * outcomes, pre-check verdicts, certificates expiring, orders left in the 3-hour window) come from a database
 * snapshot taken at most every {@code refresh} when scraped, so every node of a cluster reports the same
 * numbers; ACME request latency is this node's own.
 */
public final class FleetMetrics implements RequestListener {
    /** Let's Encrypt's new-orders-per-account limit in 3 hours (production, staging). */
    static final long PRODUCTION_ORDERS_PER_3H = 300;
    static final long STAGING_ORDERS_PER_3H = 1500;

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Supplier<FleetSnapshot> source;
    private final Clock clock;
    private final Duration refresh;
    private volatile FleetSnapshot snapshot;
    private volatile Instant takenAt = Instant.EPOCH;

    private final MultiGauge domains;
    private final MultiGauge heldBack;
    private final MultiGauge batches;
    private final MultiGauge requests;
    private final MultiGauge verdicts;

    public FleetMetrics(Supplier<FleetSnapshot> source, Clock clock, Duration refresh) {
        this(source, clock, refresh, java.util.Map.of(CaEnvironment.PRODUCTION, PRODUCTION_ORDERS_PER_3H,
                CaEnvironment.STAGING, STAGING_ORDERS_PER_3H));
    }

    /** @param newOrdersPer3h the configured new-orders-per-account limit of each environment */
    public FleetMetrics(Supplier<FleetSnapshot> source, Clock clock, Duration refresh,
                        java.util.Map<CaEnvironment, Long> newOrdersPer3h) {
        this.source = source;
        this.clock = clock;
        this.refresh = refresh;
        domains = MultiGauge.builder("certfleet_domains").description("domains by state").register(registry);
        heldBack = MultiGauge.builder("certfleet_domains_held_back").description("held or quarantined domains by reason")
                .register(registry);
        batches = MultiGauge.builder("certfleet_batches_in_flight").description("open batches by environment and state")
                .register(registry);
        requests = MultiGauge.builder("certfleet_ca_requests_24h")
                .description("ACME requests in the last 24 h by environment, request and outcome").register(registry);
        verdicts = MultiGauge.builder("certfleet_precheck_results_24h")
                .description("pre-check results in the last 24 h by verdict and reason").register(registry);
        Gauge.builder("certfleet_certificates_expiring", this, m -> m.current().certificatesExpiringIn7Days())
                .tag("within", "7d").description("valid production certificates expiring soon").register(registry);
        Gauge.builder("certfleet_certificates_expiring", this, m -> m.current().certificatesExpiringIn30Days())
                .tag("within", "30d").register(registry);
        Gauge.builder("certfleet_certificates_valid", this, m -> m.current().certificatesValid())
                .description("valid production certificates").register(registry);
        for (CaEnvironment env : CaEnvironment.values()) {
            long limit = newOrdersPer3h.get(env);
            Gauge.builder("certfleet_budget_new_orders_left", this,
                            m -> Math.max(0, limit - m.current().newOrdersLast3h().getOrDefault(env, 0L)))
                    .tag("environment", env.wire()).description("new orders left in the CA's 3-hour window")
                    .register(registry);
        }
    }

    /** The latest snapshot, refreshed when older than {@code refresh}. */
    synchronized FleetSnapshot current() {
        Instant now = clock.instant();
        if (snapshot == null || Duration.between(takenAt, now).compareTo(refresh) >= 0) {
            snapshot = source.get();
            takenAt = now;
            publish(snapshot);
        }
        return snapshot;
    }

    private void publish(FleetSnapshot s) {
        List<MultiGauge.Row<?>> d = new ArrayList<>();
        for (DomainState st : DomainState.values()) {
            d.add(MultiGauge.Row.of(Tags.of("state", st.wire()), s.domainsByState().getOrDefault(st, 0L)));
        }
        domains.register(d, true);
        List<MultiGauge.Row<?>> h = new ArrayList<>();
        s.heldBackByReason().forEach((k, v) -> {
            String[] p = k.split(":", 2);
            h.add(MultiGauge.Row.of(Tags.of("state", p[0], "reason", p[1]), v));
        });
        heldBack.register(h, true);
        List<MultiGauge.Row<?>> b = new ArrayList<>();
        for (CaEnvironment env : CaEnvironment.values()) {
            for (BatchState st : BatchState.OPEN) {
                long n = s.batchesInFlight().stream().filter(x -> x.environment() == env && x.state() == st)
                        .mapToLong(FleetSnapshot.InFlight::count).sum();
                b.add(MultiGauge.Row.of(Tags.of("environment", env.wire(), "state", st.wire()), n));
            }
        }
        batches.register(b, true);
        List<MultiGauge.Row<?>> r = new ArrayList<>();
        for (FleetSnapshot.Requests q : s.requestsLast24h()) {
            r.add(MultiGauge.Row.of(Tags.of("environment", q.environment().wire(), "request",
                    q.request().toLowerCase(java.util.Locale.ROOT), "outcome", q.outcome()), q.count()));
        }
        requests.register(r, true);
        List<MultiGauge.Row<?>> v = new ArrayList<>();
        s.precheckByReasonLast24h().forEach((k, n) -> {
            String[] p = k.split(":", 2);
            v.add(MultiGauge.Row.of(Tags.of("verdict", p[0], "reason", p[1]), n));
        });
        verdicts.register(v, true);
    }

    @Override
    public void exchanged(CaEnvironment environment, String kind, int status, long nanos) {
        Timer.builder("certfleet_acme_request").description("HTTP exchanges with the CA")
                .tags("environment", environment.wire(), "request", kind, "status", status < 0 ? "none"
                        : Integer.toString(status / 100) + "xx")
                .publishPercentileHistogram(false)
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The Prometheus text exposition; refreshes the snapshot first if it is stale. */
    public String scrape() {
        current();
        return registry.scrape();
    }
}
