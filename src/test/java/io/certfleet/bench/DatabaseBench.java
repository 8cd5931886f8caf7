package io.certfleet.bench;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainName;
import io.certfleet.model.DomainState;
import io.certfleet.model.NewDomain;
import io.certfleet.model.PrecheckRecord;
import io.certfleet.store.DomainStore;
import io.certfleet.store.PrecheckStore;
import io.certfleet.testsupport.TestDatabase;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * State transitions per second for a run over N names, through the store's bulk paths on the embedded
 * PostgreSQL: {@link DomainStore#insertNew} (new → pending) and {@link PrecheckStore#record} (pending → allowed
 * or quarantined, with one precheck_result row each), against the row-at-a-time baseline (one autocommitted UPDATE
 * per name, the N+1 shape). Usage: {@code DatabaseBench N RUNS}.
 */
public final class DatabaseBench {

    private DatabaseBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        int runs = Integer.parseInt(args[1]);
        TestDatabase db = TestDatabase.get();
        DomainStore domains = new DomainStore(db.store);
        PrecheckStore prechecks = new PrecheckStore(db.store);
        double[] insert = new double[runs];
        double[] record = new double[runs];
        double[] perRow = new double[runs];
        for (int r = 0; r < runs; r++) {
            db.clean();
            List<NewDomain> batch = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String name = String.format("d%06d.c%04d.db.example", i, i / 100);
                batch.add(new NewDomain(new DomainName(name, false), name, Optional.of("c" + i / 100)));
            }
            long t0 = System.nanoTime();
            domains.insertNew(batch);
            insert[r] = n / ((System.nanoTime() - t0) / 1e9);

            List<PrecheckRecord> records = new ArrayList<>(n);
            Instant now = Instant.now();
            for (long id = 1; id <= n; id++) {
                boolean bad = id % 50 == 0;
                records.add(new PrecheckRecord(id, bad ? "blocked" : "allowed", bad ? "CAA_FORBIDS" : "CAA_PERMITS",
                        Optional.of("c.db.example"), "detail for domain " + id, Optional.of("{\"rcode\":\"NOERROR\"}"),
                        12, bad ? DomainState.QUARANTINED : DomainState.PENDING,
                        bad ? Optional.of("CAA_FORBIDS") : Optional.empty(),
                        bad ? Optional.of(now.plusSeconds(3600)) : Optional.empty()));
            }
            t0 = System.nanoTime();
            prechecks.record(CaEnvironment.STAGING, "127.0.0.1:53", false, Optional.empty(), now, now, records);
            record[r] = n / ((System.nanoTime() - t0) / 1e9);

            t0 = System.nanoTime();
            try (Connection c = db.database.dataSource().getConnection();
                 PreparedStatement ps = c.prepareStatement("UPDATE domain SET state = 'held', reason_code = ?,"
                         + " updated_at = now() WHERE id = ? AND state <> 'removed'")) {
                c.setAutoCommit(true);
                for (long id = 1; id <= n; id++) {
                    ps.setString(1, "NS_PARTIAL_FAILURE");
                    ps.setLong(2, id);
                    ps.executeUpdate();
                }
            }
            perRow[r] = n / ((System.nanoTime() - t0) / 1e9);
            System.err.printf("run %d: insertNew %.0f/s, record %.0f/s, row-at-a-time %.0f/s%n", r + 1, insert[r],
                    record[r], perRow[r]);
        }
        double base = Report.median(perRow);
        String note = "median of " + runs + " runs, " + n + " names, embedded PostgreSQL on this machine; baseline: one"
                + " autocommitted UPDATE per name (N+1)";
        Report.row("db transitions/s: PrecheckStore.record, " + n + " names", Report.fmt(Report.median(record)) + "/s",
                Report.fmt(base) + "/s (row at a time)", Report.median(record) / base, ">= 4,000/s (20,000 in <= 5 s)",
                Report.verdict(Report.median(record) >= 4000), note + "; writes " + n + " results + " + n
                        + " domain updates in one transaction");
        Report.row("db inserts/s: DomainStore.insertNew, " + n + " names", Report.fmt(Report.median(insert)) + "/s",
                Report.fmt(base) + "/s (row at a time)", Report.median(insert) / base, ">= 4,000/s (20,000 in <= 5 s)",
                Report.verdict(Report.median(insert) >= 4000), note + "; one INSERT … SELECT unnest(arrays)");
        System.exit(0);
    }
}
