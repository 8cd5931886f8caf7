package io.certfleet.ops;

import io.certfleet.model.BatchState;
import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainState;
import io.certfleet.model.FleetSnapshot;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class FleetMetricsTest {
    private static FleetSnapshot snapshot(long pending) {
        return new FleetSnapshot(Instant.EPOCH, Map.of(DomainState.PENDING, pending, DomainState.ISSUED, 7L),
                Map.of("quarantined:CAA_FORBIDS", 3L),
                List.of(new FleetSnapshot.InFlight(CaEnvironment.STAGING, BatchState.AUTHORIZING, 2, Optional.empty())),
                List.of(new FleetSnapshot.Requests(CaEnvironment.PRODUCTION, "NEW_ORDER", "ok", 4)),
                Map.of("blocked:CAA_FORBIDS", 3L), 1, 2, 9, Map.of(CaEnvironment.PRODUCTION, 4L));
    }

    @Test
    void exposesTheFleetSeriesInPrometheusFormat() {
        FleetMetrics m = new FleetMetrics(() -> snapshot(5), Clock.systemUTC(), Duration.ofSeconds(15));
        m.exchanged(CaEnvironment.STAGING, "order", 201, 5_000_000);
        String text = m.scrape();
        assertThat(text)
                .contains("certfleet_domains{state=\"pending\"} 5.0")
                .contains("certfleet_domains{state=\"removed\"} 0.0")
                .contains("certfleet_domains_held_back{reason=\"CAA_FORBIDS\",state=\"quarantined\"} 3.0")
                .contains("certfleet_batches_in_flight{environment=\"staging\",state=\"authorizing\"} 2.0")
                .contains("certfleet_ca_requests_24h{environment=\"production\",outcome=\"ok\",request=\"new_order\"} 4.0")
                .contains("certfleet_precheck_results_24h{reason=\"CAA_FORBIDS\",verdict=\"blocked\"} 3.0")
                .contains("certfleet_certificates_expiring{within=\"7d\"} 1.0")
                .contains("certfleet_budget_new_orders_left{environment=\"production\"} 296.0")
                .contains("certfleet_acme_request_seconds_count{environment=\"staging\",request=\"order\",status=\"2xx\"} 1");
    }

    @Test
    void readsTheDatabaseAtMostOncePerRefreshInterval() {
        AtomicInteger reads = new AtomicInteger();
        Instant[] now = {Instant.parse("2026-01-01T00:00:00Z")};
        Clock clock = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now[0];
            }
        };
        FleetMetrics m = new FleetMetrics(() -> snapshot(reads.incrementAndGet()), clock, Duration.ofSeconds(15));
        m.scrape();
        m.scrape();
        assertThat(reads).hasValue(1);
        now[0] = now[0].plusSeconds(16);
        assertThat(m.scrape()).contains("certfleet_domains{state=\"pending\"} 2.0");
        assertThat(reads).hasValue(2);
    }
}
