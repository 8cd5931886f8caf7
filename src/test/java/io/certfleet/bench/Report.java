package io.certfleet.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The benchmarks' common output: each figure is one JSON line on stdout prefixed with {@code BENCH }, which
 * {@code bench/run} collects into {@code results.jsonl}; {@link #main} prints those lines as the final table.
 * A benchmark, never a test: it asserts nothing.
 */
public final class Report {
    static final ObjectMapper JSON = new ObjectMapper();

    private Report() {
    }

    /**
     * One row of the table.
     *
     * @param certfleet certfleet's figure (with unit)
     * @param baseline  the baseline's figure measured in the same run (empty string when there is none)
     * @param ratio     certfleet ÷ baseline in the direction the target is stated, or NaN
     * @param target    the target in words
     * @param pass      "pass", "FAIL" or "info"
     * @param note      what the figure is and what limits it
     */
    public static void row(String metric, String certfleet, String baseline, double ratio, String target, String pass,
                           String note) {
        ObjectNode o = JSON.createObjectNode();
        o.put("metric", metric).put("certfleet", certfleet).put("baseline", baseline);
        if (Double.isFinite(ratio)) {
            o.put("ratio", Math.round(ratio * 1000) / 1000.0);
        } else {
            o.putNull("ratio");
        }
        o.put("target", target).put("pass", pass).put("note", note);
        System.out.println("BENCH " + o);
        System.out.flush();
    }

    static String verdict(boolean ok) {
        return ok ? "pass" : "FAIL";
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    static String fmt(double v) {
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    /** Prints results.jsonl as a table: {@code Report FILE [--markdown]}. */
    public static void main(String[] args) throws IOException {
        boolean markdown = args.length > 1 && args[1].equals("--markdown");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"metric", "certfleet", "baseline", "ratio", "target", "pass/fail"});
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode o = JSON.readTree(line);
            rows.add(new String[]{o.get("metric").asText(), o.get("certfleet").asText(), o.get("baseline").asText(),
                    o.get("ratio").isNull() ? "" : fmt(o.get("ratio").asDouble()), o.get("target").asText(),
                    o.get("pass").asText()});
        }
        int[] w = new int[6];
        for (String[] r : rows) {
            for (int i = 0; i < 6; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (int j = 0; j < rows.size(); j++) {
            String[] r = rows.get(j);
            StringBuilder sb = new StringBuilder(markdown ? "| " : "");
            for (int i = 0; i < 6; i++) {
                sb.append(String.format("%-" + w[i] + "s", r[i])).append(markdown ? " | " : "  ");
            }
            System.out.println(sb.toString().stripTrailing());
            if (j == 0 && markdown) {
                StringBuilder sep = new StringBuilder("|");
                for (int i = 0; i < 6; i++) {
                    sep.append("-".repeat(w[i] + 2)).append('|');
                }
                System.out.println(sep);
            }
        }
    }
}
