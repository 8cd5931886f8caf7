package io.certfleet.cli;

import io.certfleet.app.Certfleet;
import io.certfleet.model.FleetReport;
import io.certfleet.ops.HtmlReport;
import io.certfleet.store.ReportStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Write a self-contained HTML page (no scripts, nothing fetched) with charts of the last run "
                + "and of the fleet: names by state and held-back names by reason over time, production "
                + "certificates by weeks to expiry, and the top held-back reasons.",
                "Times are shown in schedule.time-zone. Exit code 2 on a bad option or a missing directory."})
final class ReportCommand implements Callable<Integer> {
    /** Samples drawn per chart at most (the history holds one every 15 minutes). */
    static final int MAX_SAMPLES = 240;
    static final int EXPIRY_WEEKS = 13;

    @ParentCommand
    Main main;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the HTML file to write (replaced)")
    Path out;

    @Option(names = "--days", defaultValue = "30", paramLabel = "N",
            description = "days of history to chart (1-90, the history's retention; default: ${DEFAULT-VALUE})")
    int days;

    @Override
    public Integer call() throws IOException {
        if (days < 1 || days > 90) {
            throw new UsageException("--days must be between 1 and 90 (the history is kept 90 days), not " + days);
        }
        Path file = out.toAbsolutePath().normalize();
        if (Files.isDirectory(file)) {
            throw new UsageException("--out " + out + " is a directory; name the HTML file to write");
        }
        if (!Files.isDirectory(file.getParent())) {
            throw new UsageException("--out " + out + ": directory " + file.getParent() + " does not exist");
        }
        try (Certfleet app = Certfleet.open(main.loadSettings())) {
            FleetReport report = new ReportStore(app.store()).fleetReport(new ReportStore.ReportScope(
                    Duration.ofDays(days), MAX_SAMPLES, EXPIRY_WEEKS, Duration.ofDays(30), 10));
            String html = HtmlReport.render(report, app.settings().schedule().timeZone());
            write(file, html);
            System.out.printf("wrote %s (%,d bytes): %s, %,d history sample(s) over %d day(s)%n", file,
                    html.getBytes(StandardCharsets.UTF_8).length, report.lastRun()
                            .map(r -> "last run started " + r.startedAt()).orElse("no run recorded yet"),
                    report.history().size() - 1, days);
            return Main.OK;
        }
    }

    /** Writes next to the target, then renames: a browser reloading the page never sees half a file. */
    private static void write(Path file, String html) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, html, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            IOException failed = new IOException("cannot write the report to " + file + ": " + e, e);
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException again) {
                failed.addSuppressed(again);
            }
            throw failed;
        }
    }
}
