package io.certfleet.caa;

import io.certfleet.model.PrecheckReason;
import io.certfleet.model.PrecheckResult;
import io.certfleet.model.PrecheckRun;
import io.certfleet.testsupport.dns.TestDnsServer;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** 20,000 names over 2,000 zones in one run: exact results, each parent asked once, bounded time. */
class BulkRunIT {

    @Test
    void twentyThousandNamesOverTwoThousandZones() throws Exception {
        int n = 20_000;
        int zones = 2_000;
        List<String> names = PrecheckBench.names(n, zones);
        try (TestDnsServer dns = TestDnsServer.start("127.0.0.1")) {
            PrecheckBench.serve(dns, zones);
            PrecheckRun run;
            try (CaaChecker c = CaaChecker.create(PrecheckBench.settings(dns, 256))) {
                run = c.check(names);
            }
            assertThat(run.degraded()).isFalse();
            assertThat(run.results()).hasSize(n);
            for (int i = 0; i < n; i++) {
                PrecheckResult r = run.results().get(i);
                assertThat(r.input()).isEqualTo(names.get(i));
                PrecheckReason expected = (i % zones) % 50 == 0 ? PrecheckReason.CAA_FORBIDS
                        : PrecheckReason.CAA_PERMITS;
                if (r.reason() != expected) {
                    throw new AssertionError(names.get(i) + ": " + r.reason() + " " + r.detail());
                }
            }
            assertThat(run.countsByReason().get(PrecheckReason.CAA_FORBIDS)).isEqualTo(n / 50);
            assertThat(dns.queries("z7.bench", Type.CAA)).isEqualTo(1);
            assertThat(dns.queries("bench", Type.CAA)).isEqualTo(1);
            // one query per name, one per zone, one for the TLD, one for the canary
            assertThat(dns.totalQueries()).isEqualTo(n + zones + 2);
            double rate = n / Math.max(1e-3, run.elapsedMs() / 1000.0);
            System.out.printf("BulkRunIT: %d names in %d ms = %.0f names/s; %s%n", n, run.elapsedMs(), rate,
                    PrecheckBench.rss());
            assertThat(run.elapsedMs()).as("20k names on loopback").isLessThan(60_000);
        }
    }
}
