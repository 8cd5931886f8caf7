package io.certfleet.ops;

import io.certfleet.model.CaEnvironment;
import io.certfleet.model.DomainState;
import io.certfleet.model.FleetReport;
import org.junit.jupiter.api.Test;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class HtmlReportTest {
    private static final Instant NOW = Instant.parse("2026-03-10T12:00:00Z");
    private static final String HOSTILE_NAME = "<script>alert(1)</script>.example";
    private static final String HOSTILE_DETAIL = "\"><img src=x onerror=alert('x')> & \u001b[31m";
    private static final Set<String> ALLOWED_TAGS = Set.of("html", "head", "meta", "title", "style", "body", "h1", "h2",
            "p", "section", "table", "tr", "th", "td", "code", "svg", "line", "text", "g", "polyline", "circle", "rect",
            "ul", "li", "i", "details", "summary");

    private static FleetReport.Sample sample(Instant at, long pending, long issued, long quarantined,
                                             Map<String, Long> reasons) {
        return new FleetReport.Sample(at, Map.of(DomainState.PENDING, pending, DomainState.ISSUED, issued,
                DomainState.QUARANTINED, quarantined), reasons);
    }

    private static FleetReport fullReport() {
        var run = new FleetReport.LastRun("nightly", "node-a:41", NOW.minus(Duration.ofHours(10)),
                Optional.of(NOW.minus(Duration.ofHours(9))), NOW, 5000, 1200, 3700,
                Map.of(CaEnvironment.STAGING, 1300L, CaEnvironment.PRODUCTION, 4900L),
                Map.of(CaEnvironment.STAGING, 17L, CaEnvironment.PRODUCTION, 52L), 4876, 52, 23, 101, 2);
        List<FleetReport.Sample> history = List.of(
                sample(NOW.minus(Duration.ofDays(2)), 5000, 0, 0, Map.of()),
                sample(NOW.minus(Duration.ofDays(1)), 200, 4700, 20, Map.of("CAA_FORBIDS", 15L, HOSTILE_NAME, 5L)),
                sample(NOW, 0, 4876, 23, Map.of("CAA_FORBIDS", 18L, HOSTILE_NAME, 5L)));
        List<FleetReport.ExpiryWeek> expiry = new ArrayList<>();
        for (int w = -1; w < 13; w++) {
            expiry.add(new FleetReport.ExpiryWeek(w, w == 11 ? 52 : w == -1 ? 1 : 0, w == 11 ? 4876 : w == -1 ? 3 : 0));
        }
        return new FleetReport(NOW, Optional.of(run), history, expiry, List.of(
                new FleetReport.HeldBack(DomainState.QUARANTINED, "CAA_FORBIDS", 18, "shop.example",
                        Optional.of("CAA for shop.example forbids Let's Encrypt")),
                new FleetReport.HeldBack(DomainState.QUARANTINED, HOSTILE_NAME, 5, HOSTILE_NAME,
                        Optional.of(HOSTILE_DETAIL))));
    }

    @Test
    void aSelfContainedPageWithOnlyStaticMarkupAndNoWayToLoadAnything() {
        String html = HtmlReport.render(fullReport(), ZoneId.of("UTC"));
        assertThat(html).startsWith("<!DOCTYPE html>").endsWith("</html>\n")
                .contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">");
        Set<String> tags = new HashSet<>();
        Matcher m = Pattern.compile("<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>").matcher(html);
        while (m.find()) {
            tags.add(m.group(1).toLowerCase());
            assertThat(m.group(2)).as("no event handlers, sources or links in any tag")
                    .doesNotContainPattern("(?i)\\son[a-z]+\\s*=").doesNotContainPattern("(?i)\\s(src|href)\\s*=");
        }
        assertThat(ALLOWED_TAGS).containsAll(tags);
        assertThat(html).doesNotContainPattern("(?i)url\\(|@import");
    }

    @Test
    void customerInputIsEscapedEverywhereItAppears() {
        String html = HtmlReport.render(fullReport(), ZoneId.of("UTC"));
        assertThat(html).doesNotContain("<script").doesNotContain("<img")
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;.example")
                .contains("&quot;&gt;&lt;img src=x onerror=alert(&#39;x&#39;)&gt; &amp; \uFFFD[31m")
                .doesNotContain("\u001b");
        // the hostile reason is a series name too: in the legend, the data table, the tooltips and the group label
        assertThat(html).contains("data-name=\"&lt;script&gt;alert(1)&lt;/script&gt;.example\"")
                .contains("<title>&lt;script&gt;alert(1)&lt;/script&gt;.example: 5 at 2026-03-10 12:00</title>");
    }

    @Test
    void everySvgIsWellFormedXml() throws Exception {
        String html = HtmlReport.render(fullReport(), ZoneId.of("UTC"));
        Matcher svg = Pattern.compile("<svg .*?</svg>", Pattern.DOTALL).matcher(html);
        int count = 0;
        while (svg.find()) {
            var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                    .parse(new ByteArrayInputStream(svg.group().getBytes(StandardCharsets.UTF_8)));
            assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
            count++;
        }
        assertThat(count).as("last run, states, reasons, expiry").isEqualTo(4);
    }

    @Test
    void theNumbersOfTheLastRunTheFleetAndTheExpiryHistogram() {
        String html = HtmlReport.render(fullReport(), ZoneId.of("Europe/Berlin"));
        assertThat(html).contains("<th>started</th><td>2026-03-10 03:00 (nightly on node-a:41)</td>")
                .contains("<th>ended</th><td>2026-03-10 04:00 (admission; batches advance in the background)</td>")
                .contains("<th>names pre-checked</th><td class=\"n\">1,200</td>")
                .contains("<th>names skipped as fresh</th><td class=\"n\">3,700</td>")
                .contains("<th>names ordered (production)</th><td class=\"n\">4,900</td>")
                .contains("<th>orders (staging)</th><td class=\"n\">17</td>")
                .contains("<th>orders (production)</th><td class=\"n\">52</td>")
                .contains("<th>names issued</th><td class=\"n\">4,876</td>")
                .contains("<th>names quarantined</th><td class=\"n\">23</td>")
                .contains("<th>issued</th><td class=\"n\">4,876</td>")
                .contains("<th>total</th><td class=\"n\">4,899</td>")
                .contains("Times in Europe/Berlin.");
        String expiry = section(html, "expiry");
        assertThat(bars(expiry)).containsExactly(1L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 52L, 0L);
        assertThat(expiry).contains(">expired<").contains(">77–84d<").contains(">≥84d<")
                .contains("52 certificate(s), 4876 name(s) expire 2026-05-26 – 2026-06-02");
        assertThat(bars(section(html, "last-run"))).containsExactly(1200L, 3700L, 4900L, 4876L, 23L, 101L);
        assertThat(section(html, "states")).containsOnlyOnce("<g class=\"series\" data-name=\"issued\">");
        assertThat(countOf(section(html, "states"), "<g class=\"series\"")).isEqualTo(DomainState.values().length);
    }

    @Test
    void reasonsBeyondTheEighthAddUpAsOtherReasons() {
        Map<String, Long> reasons = new HashMap<>();
        for (int i = 1; i <= 10; i++) {
            reasons.put("REASON_" + i, (long) i * 10);
        }
        FleetReport r = new FleetReport(NOW, Optional.empty(), List.of(sample(NOW.minusSeconds(60), 0, 0, 550, reasons),
                sample(NOW, 0, 0, 550, reasons)), List.of(), List.of());
        String section = section(HtmlReport.render(r, ZoneId.of("UTC")), "reasons");
        assertThat(countOf(section, "<g class=\"series\"")).isEqualTo(HtmlReport.REASON_LINES + 1);
        assertThat(section).contains("data-name=\"REASON_10\"").contains("data-name=\"REASON_3\"")
                .doesNotContain("data-name=\"REASON_2\"").doesNotContain("data-name=\"REASON_1\"")
                .contains("<title>other reasons: 30 at 2026-03-10 12:00</title>");
    }

    @Test
    void aNewInstallationWithoutRunsOrHistoryStillRenders() {
        FleetReport r = new FleetReport(NOW, Optional.empty(), List.of(sample(NOW, 3, 0, 0, Map.of())),
                List.of(new FleetReport.ExpiryWeek(-1, 0, 0), new FleetReport.ExpiryWeek(0, 0, 0)), List.of());
        String html = HtmlReport.render(r, ZoneId.of("UTC"));
        assertThat(html).contains("No run recorded yet").contains("No history yet").contains("No name is held back")
                .contains("<th>pending</th><td class=\"n\">3</td>");
        assertThat(bars(section(html, "expiry"))).containsExactly(0L, 0L);
    }

    @Test
    void theTokenOfAnUnpauseUrlStaysOutOfThePage() {
        String detail = "Let's Encrypt paused issuance for this name on account https://p.test/acct/7; an operator "
                + "must unpause it at https://portal.letsencrypt.org/sfe/v1/unpause?jwt=eyJhbGciOi.eyJzdWIiOi.c2ln";
        FleetReport r = new FleetReport(NOW, Optional.empty(), List.of(sample(NOW, 0, 0, 1, Map.of("CA_PAUSED", 1L))),
                List.of(), List.of(new FleetReport.HeldBack(DomainState.QUARANTINED, "CA_PAUSED", 1, "a.example",
                Optional.of(detail))));
        String html = HtmlReport.render(r, ZoneId.of("UTC"));
        assertThat(html).doesNotContain("eyJhbGciOi").contains("unpause?jwt=… (see v_paused_names)");
    }

    @Test
    void axisStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        assertThat(Svg.Scale.of(0)).isEqualTo(new Svg.Scale(1, 1));
        assertThat(Svg.Scale.of(3)).isEqualTo(new Svg.Scale(3, 1));
        assertThat(Svg.Scale.of(1234)).isEqualTo(new Svg.Scale(1500, 500));
        assertThat(Svg.Scale.of(100_000)).isEqualTo(new Svg.Scale(100_000, 50_000));
    }

    @Test
    void escapeCoversTheFiveHtmlCharactersAndControlCharacters() {
        assertThat(Html.escape("a&b<c>d\"e'f\u0000g\u0085h\ti")).isEqualTo("a&amp;b&lt;c&gt;d&quot;e&#39;f\uFFFDg\uFFFDh\ti");
    }

    private static String section(String html, String id) {
        int from = html.indexOf("<section id=\"" + id + "\">");
        assertThat(from).as("section " + id).isNotNegative();
        return html.substring(from, html.indexOf("</section>", from));
    }

    private static List<Long> bars(String html) {
        List<Long> out = new ArrayList<>();
        Matcher m = Pattern.compile("<rect class=\"bar\"[^>]* data-value=\"(\\d+)\"").matcher(html);
        while (m.find()) {
            out.add(Long.parseLong(m.group(1)));
        }
        return out;
    }

    private static int countOf(String s, String part) {
        return s.split(Pattern.quote(part), -1).length - 1;
    }
}
