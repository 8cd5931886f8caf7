package io.certfleet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.certfleet.app.Certfleet;
import io.certfleet.app.Issuance;
import io.certfleet.pipeline.CycleSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run one issuance cycle now: pre-check pending names, rehearse on staging, isolate failures, "
                + "promote clean sets to production, then print a summary.",
                "Exit code 1 when names were held back or batches are left open."})
final class RunCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--once", required = true, description = "run one cycle and exit (the daemon runs cycles on a schedule)")
    boolean once;

    @picocli.CommandLine.Mixin
    TableOrJson output;

    @Override
    public Integer call() throws Exception {
        boolean json = output.json();
        try (Certfleet app = Certfleet.open(main.loadSettings())) {
            Issuance issuance = Issuance.start(app, Clock.systemUTC());
            CycleSummary s = issuance.runOnce(app.settings().pipeline().runTimeout());
            if (json) {
                System.out.println(new ObjectMapper().writeValueAsString(json(s)));
            } else {
                table(s);
            }
            boolean heldBack = !s.quarantinedByReason().isEmpty() || !s.heldByReason().isEmpty();
            return heldBack || !s.finished() ? Main.PROBLEMS : Main.OK;
        }
    }

    static Map<String, Object> json(CycleSummary s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("names_issued", s.namesIssued());
        m.put("certificates_written", s.certificatesWritten());
        m.put("quarantined", s.quarantinedByReason());
        m.put("held", s.heldByReason());
        m.put("skipped_fresh", s.skippedFresh());
        m.put("prechecked", s.prechecked());
        m.put("resolver_degraded", s.resolverDegraded());
        m.put("staging_orders", s.stagingOrders());
        m.put("production_orders", s.productionOrders());
        m.put("pending_left", s.pendingLeft());
        m.put("open_batches_left", s.openBatchesLeft());
        m.put("finished", s.finished());
        m.put("elapsed_ms", s.elapsed().toMillis());
        return m;
    }

    private static void table(CycleSummary s) {
        System.out.printf("names issued          %,d (in %,d certificates)%n", s.namesIssued(), s.certificatesWritten());
        System.out.printf("skipped as fresh      %,d%n", s.skippedFresh());
        System.out.printf("pre-checked           %,d%s%n", s.prechecked(), s.resolverDegraded() ? " (resolver degraded)" : "");
        System.out.printf("orders spent          %,d staging, %,d production%n", s.stagingOrders(), s.productionOrders());
        System.out.printf("quarantined           %s%n", s.quarantinedByReason().isEmpty() ? "none" : s.quarantinedByReason());
        System.out.printf("held back             %s%n", s.heldByReason().isEmpty() ? "none" : s.heldByReason());
        System.out.printf("left for next cycle   %,d pending names, %,d open batches%n", s.pendingLeft(), s.openBatchesLeft());
        System.out.printf("elapsed               %.1f s%n", s.elapsed().toMillis() / 1000.0);
    }
}
