package io.certfleet.ops;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainState;
import io.certfleet.model.FleetReport;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code certfleet report}'s page: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched; a
 * Content-Security-Policy forbids both) showing the last run, names by state and held-back names by reason over
 * time, production certificates by weeks to expiry, and the top held-back reasons. Names and details are customer
 * input: every one is escaped.
 */
public final class HtmlReport {
    /** Reasons drawn as their own line; the rest add up to "other reasons". */
    static final int REASON_LINES = 8;
    private static final Map<DomainState, String> STATE_COLORS = Map.of(
            DomainState.PENDING, "#4e79a7", DomainState.HELD, "#f28e2b", DomainState.QUARANTINED, "#e15759",
            DomainState.BATCHED, "#b07aa1", DomainState.ISSUED, "#59a14f", DomainState.REMOVED, "#bab0ac");
    private static final String[] PALETTE = {"#e15759", "#f28e2b", "#edc948", "#76b7b2", "#4e79a7", "#b07aa1",
        "#ff9da7", "#9c755f"};
    private static final String OTHER = "#bab0ac";
    private static final String BLUE = "#4e79a7";
    private static final String STYLE = """
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:800px;
            color:#222;padding:0 12px}h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:32px;
            border-bottom:1px solid #ddd}table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px 3px 0;
            text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
            .meta,.note{color:#666}svg{max-width:100%;height:auto}ul.legend{list-style:none;padding:0;margin:4px 0}
            ul.legend li{display:inline-block;margin-right:14px}ul.legend i{display:inline-block;width:10px;
            height:10px;margin-right:4px}td.detail{color:#555;max-width:360px;overflow-wrap:anywhere}
            code{overflow-wrap:anywhere}details{margin:4px 0 12px}
            """;

    private final FleetReport r;
    private final ZoneId zone;
    private final DateTimeFormatter time;
    private final StringBuilder out = new StringBuilder(32_768);

    private HtmlReport(FleetReport r, ZoneId zone) {
        this.r = r;
        this.zone = zone;
        this.time = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm", Locale.ROOT).withZone(zone);
    }

    /** The page for {@code report}, times shown in {@code zone}. */
    public static String render(FleetReport report, ZoneId zone) {
        return new HtmlReport(report, zone).page();
    }

    private String page() {
        out.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ")
                .append("style-src 'unsafe-inline'\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>certfleet report ").append(esc(time.format(r.generatedAt()))).append("</title>\n")
                .append("<style>").append(STYLE).append("</style>\n</head>\n<body>\n")
                .append("<h1>certfleet report</h1>\n<p class=\"meta\">Generated ").append(esc(at(r.generatedAt())))
                .append(" from the database. Times in ").append(esc(zone.getId())).append(".</p>\n");
        lastRun();
        states();
        reasons();
        expiry();
        heldBack();
        return out.append("</body>\n</html>\n").toString();
    }

    private void lastRun() {
        out.append("<section id=\"last-run\">\n<h2>Last run</h2>\n");
        if (r.lastRun().isEmpty()) {
            out.append("<p class=\"note\">No run recorded yet: <code>certfleet run --once</code> and the daemon's "
                    + "nightly job record theirs.</p>\n</section>\n");
            return;
        }
        FleetReport.LastRun run = r.lastRun().get();
        String ended = run.endedAt().map(this::at).orElse("still running");
        if (run.kind().equals("nightly") && run.endedAt().isPresent()) {
            ended += " (admission; batches advance in the background)";
        }
        out.append("<table>\n");
        row("started", at(run.startedAt()) + " (" + run.kind() + " on " + run.node() + ")");
        row("ended", ended);
        row("counted until", at(run.until()));
        numberRow("names due", run.namesDue());
        numberRow("names pre-checked", run.namesChecked());
        numberRow("names skipped as fresh", run.namesFresh());
        for (CaEnvironment env : CaEnvironment.values()) {
            numberRow("names ordered (" + env.wire() + ")", run.namesOrdered().getOrDefault(env, 0L));
        }
        for (CaEnvironment env : CaEnvironment.values()) {
            numberRow("orders (" + env.wire() + ")", run.orders().getOrDefault(env, 0L));
        }
        numberRow("names issued", run.namesIssued());
        numberRow("certificates", run.certificates());
        numberRow("names quarantined", run.namesQuarantined());
        numberRow("names held", run.namesHeld());
        numberRow("batches still open", run.openBatches());
        out.append("</table>\n");
        long prodOrdered = run.namesOrdered().getOrDefault(CaEnvironment.PRODUCTION, 0L);
        out.append(Svg.barChart("Names in the last run", List.of(
                new Svg.Bar("pre-checked", "names pre-checked: " + run.namesChecked(), run.namesChecked(), BLUE),
                new Svg.Bar("fresh", "names skipped as fresh: " + run.namesFresh(), run.namesFresh(), BLUE),
                new Svg.Bar("ordered", "names in production orders: " + prodOrdered, prodOrdered, BLUE),
                new Svg.Bar("issued", "names issued: " + run.namesIssued(), run.namesIssued(),
                        STATE_COLORS.get(DomainState.ISSUED)),
                new Svg.Bar("quarantined", "names quarantined: " + run.namesQuarantined(), run.namesQuarantined(),
                        STATE_COLORS.get(DomainState.QUARANTINED)),
                new Svg.Bar("held", "names held: " + run.namesHeld(), run.namesHeld(),
                        STATE_COLORS.get(DomainState.HELD)))));
        out.append("</section>\n");
    }

    private void states() {
        out.append("<section id=\"states\">\n<h2>Names by state</h2>\n<table>\n");
        FleetReport.Sample now = r.now();
        long total = 0;
        for (DomainState s : DomainState.values()) {
            numberRow(s.wire(), now.state(s));
            total += now.state(s);
        }
        numberRow("total", total);
        out.append("</table>\n");
        List<Svg.Series> series = new ArrayList<>();
        for (DomainState s : DomainState.values()) {
            series.add(new Svg.Series(s.wire(), STATE_COLORS.get(s),
                    r.history().stream().mapToLong(x -> x.state(s)).toArray()));
        }
        chartOverTime("Names by state over time", series);
        out.append("</section>\n");
    }

    private void reasons() {
        out.append("<section id=\"reasons\">\n<h2>Held back by reason over time</h2>\n");
        out.append("<p class=\"note\">Names in state held or quarantined, by reason code.</p>\n");
        Map<String, Long> latest = r.now().heldBackByReason();
        Map<String, Long> peak = new TreeMap<>();
        r.history().forEach(s -> s.heldBackByReason().forEach((k, v) -> peak.merge(k, v, Math::max)));
        List<String> ranked = new ArrayList<>(peak.keySet());
        ranked.sort(Comparator.comparing((String k) -> -latest.getOrDefault(k, 0L)).thenComparing(k -> -peak.get(k))
                .thenComparing(k -> k));
        List<String> drawn = ranked.subList(0, Math.min(REASON_LINES, ranked.size()));
        List<Svg.Series> series = new ArrayList<>();
        for (int i = 0; i < drawn.size(); i++) {
            String reason = drawn.get(i);
            series.add(new Svg.Series(reason, PALETTE[i % PALETTE.length],
                    r.history().stream().mapToLong(s -> s.heldBackByReason().getOrDefault(reason, 0L)).toArray()));
        }
        if (ranked.size() > drawn.size()) {
            series.add(new Svg.Series("other reasons", OTHER, r.history().stream().mapToLong(s -> s.heldBackByReason()
                    .entrySet().stream().filter(e -> !drawn.contains(e.getKey())).mapToLong(Map.Entry::getValue)
                    .sum()).toArray()));
        }
        if (series.isEmpty()) {
            out.append("<p>No name is held back.</p>\n");
        } else {
            chartOverTime("Held-back names by reason over time", series);
        }
        out.append("</section>\n");
    }

    private void chartOverTime(String title, List<Svg.Series> series) {
        List<Instant> xs = r.history().stream().map(FleetReport.Sample::at).toList();
        if (xs.size() < 2) {
            out.append("<p class=\"note\">No history yet: the daemon samples the fleet every 15 minutes and at "
                    + "the end of every run; until then the chart shows now only.</p>\n");
        }
        out.append(Svg.lineChart(title, xs, series, zone));
        out.append("<ul class=\"legend\">");
        for (Svg.Series s : series) {
            out.append("<li><i style=\"background:").append(s.color()).append("\"></i>").append(esc(s.name()))
                    .append("</li>");
        }
        out.append("</ul>\n<details><summary>Data</summary>\n<table>\n<tr><th>time</th>");
        series.forEach(s -> out.append("<th>").append(esc(s.name())).append("</th>"));
        out.append("</tr>\n");
        for (int i = xs.size() - 1; i >= 0; i--) {
            out.append("<tr><td>").append(esc(time.format(xs.get(i)))).append("</td>");
            for (Svg.Series s : series) {
                out.append("<td class=\"n\">").append(Html.number(s.values()[i])).append("</td>");
            }
            out.append("</tr>\n");
        }
        out.append("</table>\n</details>\n");
    }

    private void expiry() {
        out.append("<section id=\"expiry\">\n<h2>Certificate expiry</h2>\n");
        out.append("<p class=\"note\">Production certificates not yet replaced, by weeks until they expire (the "
                + "last bar: that many weeks or later; expired: in the last 30 days, without a replacement).</p>\n");
        List<Svg.Bar> bars = new ArrayList<>();
        int last = r.expiry().stream().mapToInt(FleetReport.ExpiryWeek::week).max().orElse(0);
        for (FleetReport.ExpiryWeek w : r.expiry()) {
            String label;
            String when;
            if (w.week() < 0) {
                label = "expired";
                when = "have expired";
            } else {
                Instant from = r.generatedAt().plus(Duration.ofDays(7L * w.week()));
                label = w.week() == last ? "≥" + 7 * w.week() + "d" : 7 * w.week() + "–" + 7 * (w.week() + 1) + "d";
                when = w.week() == last ? "expire after " + date(from)
                        : "expire " + date(from) + " – " + date(from.plus(Duration.ofDays(7)));
            }
            bars.add(new Svg.Bar(label, w.certificates() + " certificate(s), " + w.names() + " name(s) " + when,
                    w.certificates(), w.week() < 0 ? STATE_COLORS.get(DomainState.QUARANTINED)
                    : w.week() < 2 ? STATE_COLORS.get(DomainState.HELD) : STATE_COLORS.get(DomainState.ISSUED)));
        }
        out.append(Svg.barChart("Production certificates by weeks to expiry", bars));
        out.append("</section>\n");
    }

    private void heldBack() {
        out.append("<section id=\"held-back\">\n<h2>Top held-back reasons</h2>\n");
        if (r.topHeldBack().isEmpty()) {
            out.append("<p>No name is held back.</p>\n</section>\n");
            return;
        }
        out.append("<table>\n<tr><th>reason</th><th>state</th><th>names</th><th>for example</th><th>detail</th></tr>\n");
        for (FleetReport.HeldBack h : r.topHeldBack()) {
            out.append("<tr><td><code>").append(esc(h.reason())).append("</code></td><td>").append(h.state().wire())
                    .append("</td><td class=\"n\">").append(Html.number(h.names())).append("</td><td><code>")
                    .append(esc(h.exampleName())).append("</code></td><td class=\"detail\">")
                    .append(esc(redact(h.exampleDetail().orElse("")))).append("</td></tr>\n");
        }
        out.append("</table>\n<p class=\"note\">Every held-back name with its reason and next attempt: "
                + "<code>SELECT name, state, reason, detail, next_attempt FROM v_domain_status WHERE state IN "
                + "(&#39;held&#39;, &#39;quarantined&#39;)</code></p>\n</section>\n");
    }

    /**
     * Removes the token of an unpause URL (it lets anyone unpause our account's names): the page is meant to be
     * passed around; {@code v_paused_names} has the whole URL.
     */
    static String redact(String detail) {
        return detail.replaceAll("jwt=[^\\s&\"'<>,]+", "jwt=… (see v_paused_names)");
    }

    private void row(String label, String value) {
        out.append("<tr><th>").append(esc(label)).append("</th><td>").append(esc(value)).append("</td></tr>\n");
    }

    private void numberRow(String label, long value) {
        out.append("<tr><th>").append(esc(label)).append("</th><td class=\"n\">").append(Html.number(value))
                .append("</td></tr>\n");
    }

    private String at(Instant t) {
        return time.format(t);
    }

    private String date(Instant t) {
        return DateTimeFormatter.ISO_LOCAL_DATE.withZone(zone).format(t);
    }

    private static String esc(String s) {
        return Html.escape(s);
    }
}
