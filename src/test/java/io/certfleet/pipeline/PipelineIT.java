package io.certfleet.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.batch.Bisection;
import io.certfleet.testsupport.Cli;
import io.certfleet.testsupport.acme.BoulderProxy.Endpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The acceptance run: 1,000 imported names, ~5 % bad in assorted ways, one {@code run --once} against two
 * real Pebbles. Forbidding CAA and SERVFAIL are caught by the pre-check; validation failures and injected
 * Boulder failures only at staging. Production gets exactly the good names, in certificates, with zero failing
 * production orders, and staging orders stay within the budget.
 */
class PipelineIT {
    private static PipelineHarness h;
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        h = new PipelineHarness();
        h.db.clean();
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void thousandNamesWithFivePercentBad(@TempDir Path tmp) throws Exception {
        List<String> lines = new ArrayList<>();
        Set<String> forbid = new HashSet<>();
        Set<String> servfail = new HashSet<>();
        Set<String> unreachable = new HashSet<>();
        Set<String> rejected = new HashSet<>();
        Set<String> nobody = new HashSet<>();
        // 100 customers of 10 names; each kind of bad name sits in its own customers, so each failing batch has one
        // kind of failure (a batch with several kinds discovers them one order after another: see docs/pipeline.md)
        for (int i = 0; i < 1000; i++) {
            String name = String.format("n%03d.c%02d.example", i, i / 10);
            lines.add(name + ",customer" + String.format("%02d", i / 10));
            int customer = i / 10;
            int k = i % 10;
            if (customer >= 95 && k < 4) {
                forbid.add(name);
            } else if (customer >= 90 && customer < 95 && k < 2) {
                servfail.add(name);
            } else if (customer >= 10 && customer < 15 && (k == 5 || k == 6)) {
                unreachable.add(name);
            } else if (customer >= 30 && customer < 35 && k == 7) {
                rejected.add(name);
            } else if (i == 205 || i == 505 || i == 705) {
                nobody.add(name);
            }
        }
        forbid.forEach(n -> h.pebbles.addCaa(n, "issue", "other-ca.example"));
        servfail.forEach(h.pebbles::setServfail);
        unreachable.forEach(n -> h.pebbles.addA(n, "127.0.0.2")); // nothing answers there: validation fails
        h.staging.rejectIdentifiersAtNewOrder(rejected);
        h.staging.failFinalizeNamingNobody(nobody);

        Cli.Result imp = Cli.run(h.overrides(), new ByteArrayInputStream(String.join("\n", lines)
                .getBytes(StandardCharsets.UTF_8)), "import", "-");
        assertThat(imp.exitCode()).as(imp.err()).isZero();

        long t0 = System.nanoTime();
        Cli.Result run = Cli.run(h.overrides(), null, "run", "--once", "--format", "json");
        long wallMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(run.exitCode()).as(run.err()).isEqualTo(1); // names were held back
        JsonNode s = JSON.readTree(run.out());

        int bad = forbid.size() + servfail.size() + unreachable.size() + rejected.size() + nobody.size();
        assertThat(s.get("finished").asBoolean()).isTrue();
        assertThat(s.get("names_issued").asLong()).isEqualTo(1000 - bad);
        // every bad name is quarantined with exactly its own reason, and nothing else is quarantined
        Set<String> expected = new HashSet<>();
        forbid.forEach(n -> expected.add(n + " CAA_FORBIDS"));
        servfail.forEach(n -> expected.add(n + " DNS_SERVFAIL"));
        unreachable.forEach(n -> expected.add(n + " CA_CONNECTION"));
        rejected.forEach(n -> expected.add(n + " CA_REJECTED_IDENTIFIER"));
        nobody.forEach(n -> expected.add(n + " CA_UNATTRIBUTED"));
        assertThat(h.countBy("SELECT name || ' ' || reason_code, 1 FROM domain WHERE state = 'quarantined'").keySet())
                .containsExactlyInAnyOrderElementsOf(expected);
        assertThat(h.count("SELECT count(*) FROM domain WHERE state = 'issued'")).isEqualTo(1000 - bad);
        // each good name is in exactly one production certificate, and no bad one is
        assertThat(h.count("SELECT count(*) FROM (SELECT domain_id FROM certificate_name GROUP BY 1 HAVING count(*) > 1) x"))
                .isZero();
        for (String n : union(forbid, servfail, unreachable, rejected, nobody)) {
            assertThat(h.count("SELECT count(*) FROM certificate_name cn JOIN domain d ON d.id = cn.domain_id"
                    + " WHERE d.name = '" + n + "'")).as(n).isZero();
        }
        // zero failing production orders: every production order became a certificate
        // (orders are counted by their URLs: the proxy also sees acme4j's retries after Pebble's badNonce)
        long productionOrders = h.count("SELECT count(DISTINCT order_url) FROM batch WHERE environment = 'production'");
        long certificates = h.count("SELECT count(*) FROM certificate WHERE environment = 'production'");
        assertThat(productionOrders).isEqualTo(certificates).isEqualTo(s.get("production_orders").asLong());
        assertThat(h.production.count(Endpoint.NEW_ORDER)).isGreaterThanOrEqualTo((int) productionOrders);
        assertThat(h.count("SELECT count(*) FROM batch WHERE environment = 'production' AND state <> 'issued'")).isZero();
        // Staging budget. The issue asks for batches + one re-rehearsal per batch with attributable failures
        // + k·⌈log2 n⌉ for k unattributable bad names in batches of n. A scheme that promotes exactly the set staging
        // cleared cannot do better than ⌈log2 n⌉ + 1 extra orders per unattributable name in the worst case. Its d
        // extra orders form a pass/fail decision tree over the suspects, and on the path of culprit c there must be a
        // passing order of exactly root − {c} (that set is what production gets). Such an order passes for c alone, so
        // one order serves one suspect (f(1) = 1) and each further order at most doubles what the tree can tell apart
        // (f(d) ≤ 2·f(d − 1)): d orders resolve at most 2^(d−1) suspects, and n = 100 needs d = 8 = ⌈log2 100⌉ + 1.
        // batch.Bisection reaches that bound (BisectionTest.theWorstCulpritCostsDepthPlusOneOrders), so the budget
        // counts the final re-rehearsal of each bisected batch as its own term, next to the attributable ones.
        long batches = h.count("SELECT count(*) FROM batch WHERE environment = 'staging' AND parent_id IS NULL");
        long reRehearsalsOfAttributableFailures = h.count("SELECT count(*) FROM batch b WHERE b.environment = 'staging'"
                + " AND b.parent_id IS NULL AND b.state = 'failed'");
        long reRehearsalsOfBisectedBatches = h.count("SELECT count(*) FROM batch b WHERE b.environment = 'staging'"
                + " AND b.parent_id IS NULL AND b.state = 'split'");
        // n: the largest batch that was bisected, as it was ordered (inactive members included)
        int bisectedSize = (int) h.count("SELECT coalesce(max((SELECT count(*) FROM batch_member m WHERE m.batch_id = b.id)), 0)"
                + " FROM batch b WHERE b.environment = 'staging' AND b.parent_id IS NULL AND b.state = 'split'");
        long budget = batches + reRehearsalsOfAttributableFailures + reRehearsalsOfBisectedBatches
                + (long) nobody.size() * Bisection.depth(bisectedSize);
        long stagingOrders = h.count("SELECT count(DISTINCT order_url) FROM batch WHERE environment = 'staging'")
                + h.staging.injectedCount(Endpoint.NEW_ORDER); // refused new-orders count against the budget too
        assertThat(stagingOrders - h.staging.injectedCount(Endpoint.NEW_ORDER)).isEqualTo(s.get("staging_orders").asLong());
        System.out.printf("PipelineIT: %d names, %d bad; staging orders %d (budget %d: %d batches + %d re-rehearsals of"
                        + " batches with attributable failures + %d re-rehearsals of bisected batches + %d unattributable"
                        + " x ⌈log2 %d⌉ = %d), production orders %d, wall %d ms%n", 1000, bad, stagingOrders, budget,
                batches, reRehearsalsOfAttributableFailures, reRehearsalsOfBisectedBatches, nobody.size(), bisectedSize,
                Bisection.depth(bisectedSize), productionOrders, wallMs);
        h.countBy("SELECT id || ' parent=' || coalesce(parent_id::text, '-') || ' ' || state || ' ' || coalesce(error_type, '')"
                + " || ' probe=' || coalesce(cardinality(probe_ids), 0), (SELECT count(*) FROM batch_member m WHERE m.batch_id = b.id)"
                + " FROM batch b WHERE environment = 'staging' ORDER BY id").forEach((k, v) -> System.out.println("  batch " + k + " members=" + v));
        assertThat(reRehearsalsOfBisectedBatches).as("bisected batches").isPositive();
        assertThat(stagingOrders).isLessThanOrEqualTo(budget);

        // operators see it all in the view
        assertThat(h.count("SELECT count(*) FROM v_domain_status WHERE production_validated_at IS NOT NULL"))
                .isEqualTo(1000 - bad);

        // export writes the chain and a 0600 key for the serving layer
        Cli.Result certs = Cli.run(h.overrides(), null, "certs", "--format", "json");
        JsonNode first = JSON.readTree(certs.out()).get(0);
        Cli.Result exp = Cli.run(h.overrides(), null, "export", first.get("id").asText(), "--dir", tmp.toString());
        assertThat(exp.exitCode()).as(exp.err()).isZero();
        assertThat(Files.readString(tmp.resolve("fullchain.pem"))).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(Files.readString(tmp.resolve("privkey.pem"))).contains("PRIVATE KEY");
        assertThat(Files.getPosixFilePermissions(tmp.resolve("privkey.pem")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(run.err() + imp.err()).doesNotContain("PRIVATE KEY");
    }

    @SafeVarargs
    private static Set<String> union(Set<String>... sets) {
        Set<String> all = new HashSet<>();
        for (Set<String> s : sets) {
            all.addAll(s);
        }
        return all;
    }
}
