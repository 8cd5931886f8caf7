package io.certfleet.ops;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * Inline SVG charts drawn on the server: a time-series line chart and a bar chart, with axes, grid lines and a
 * {@code <title>} tooltip on every point and bar. Every text that reaches the output goes through
 * {@link Html#escape}; colours come from this package's constants only.
 */
final class Svg {
    static final int WIDTH = 760;
    static final int HEIGHT = 260;
    private static final int LEFT = 64;
    private static final int RIGHT = 16;
    private static final int TOP = 14;
    private static final int BOTTOM = 44;
    private static final int PLOT_W = WIDTH - LEFT - RIGHT;
    private static final int PLOT_H = HEIGHT - TOP - BOTTOM;

    /** One line of a chart: its name (escaped when drawn), a colour constant, one value per x. */
    record Series(String name, String color, long[] values) {
    }

    /** One bar: its axis label, tooltip, value and colour constant. */
    record Bar(String label, String tooltip, long value, String color) {
    }

    private Svg() {
    }

    /** A line chart of {@code series} over the instants {@code xs}; points get dots when there are few of them. */
    static String lineChart(String title, List<Instant> xs, List<Series> series, ZoneId zone) {
        long max = 0;
        for (Series s : series) {
            for (long v : s.values()) {
                max = Math.max(max, v);
            }
        }
        Scale y = Scale.of(max);
        StringBuilder b = open(title);
        yAxis(b, y);
        Instant t0 = xs.isEmpty() ? Instant.EPOCH : xs.get(0);
        long span = xs.isEmpty() ? 0 : Duration.between(t0, xs.get(xs.size() - 1)).toMillis();
        DateTimeFormatter fmt = DateTimeFormatter.ofPattern(span > Duration.ofDays(2).toMillis() ? "yyyy-MM-dd"
                : "MM-dd HH:mm", Locale.ROOT).withZone(zone);
        DateTimeFormatter tip = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm", Locale.ROOT).withZone(zone);
        int labels = span == 0 ? 1 : 5;
        for (int i = 0; i < labels; i++) {
            double f = labels == 1 ? 0.5 : i / (double) (labels - 1);
            Instant at = t0.plusMillis(Math.round(span * f));
            String anchor = labels == 1 ? "middle" : i == 0 ? "start" : i == labels - 1 ? "end" : "middle";
            b.append(String.format(Locale.ROOT, "<text class=\"x\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" fill=\"#555\">%s</text>%n",
                    LEFT + PLOT_W * f, HEIGHT - BOTTOM + 18, anchor, Html.escape(fmt.format(at))));
        }
        boolean dots = xs.size() <= 40;
        for (Series s : series) {
            StringBuilder points = new StringBuilder();
            StringBuilder marks = new StringBuilder();
            for (int i = 0; i < xs.size() && i < s.values().length; i++) {
                double x = span == 0 ? LEFT + PLOT_W / 2.0
                        : LEFT + PLOT_W * Duration.between(t0, xs.get(i)).toMillis() / (double) span;
                double yy = y.y(s.values()[i]);
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, yy));
                if (dots || i == xs.size() - 1) {
                    marks.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">"
                                    + "<title>%s</title></circle>%n", x, yy, s.color(),
                            Html.escape(s.name() + ": " + Html.number(s.values()[i]) + " at " + tip.format(xs.get(i)))));
                }
            }
            b.append(String.format(Locale.ROOT, "<g class=\"series\" data-name=\"%s\">%n", Html.escape(s.name())));
            if (xs.size() > 1) {
                b.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                        + "points=\"%s\"/>%n", s.color(), points.toString().strip()));
            }
            b.append(marks).append("</g>\n");
        }
        return b.append("</svg>\n").toString();
    }

    /** A bar chart; bars share the width, each labelled below and annotated with its value on top. */
    static String barChart(String title, List<Bar> bars) {
        long max = bars.stream().mapToLong(Bar::value).max().orElse(0);
        Scale y = Scale.of(max);
        StringBuilder b = open(title);
        yAxis(b, y);
        double slot = PLOT_W / (double) Math.max(1, bars.size());
        double w = Math.max(2, slot * 0.7);
        for (int i = 0; i < bars.size(); i++) {
            Bar bar = bars.get(i);
            double x = LEFT + slot * i + (slot - w) / 2;
            double top = y.y(bar.value());
            b.append(String.format(Locale.ROOT, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                            + "fill=\"%s\" data-value=\"%d\"><title>%s</title></rect>%n", x, top, w,
                    TOP + PLOT_H - top, bar.color(), bar.value(), Html.escape(bar.tooltip())));
            if (bar.value() > 0) {
                b.append(String.format(Locale.ROOT, "<text class=\"v\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#333\">%s"
                        + "</text>%n", x + w / 2, top - 3, Html.number(bar.value())));
            }
            b.append(String.format(Locale.ROOT, "<text class=\"x\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%s</text>%n",
                    x + w / 2, HEIGHT - BOTTOM + 18, Html.escape(bar.label())));
        }
        return b.append("</svg>\n").toString();
    }

    private static StringBuilder open(String title) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                + "width=\"%d\" height=\"%d\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\"><title>%s</title>%n", WIDTH, HEIGHT, WIDTH, HEIGHT,
                Html.escape(title)));
        return b;
    }

    private static void yAxis(StringBuilder b, Scale y) {
        for (long v = 0; v <= y.top(); v += y.step()) {
            double yy = y.y(v);
            b.append(String.format(Locale.ROOT, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>%n"
                            + "<text class=\"y\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%s</text>%n",
                    LEFT, yy, WIDTH - RIGHT, yy, LEFT - 6, yy + 4, Html.number(v)));
        }
        b.append(String.format(Locale.ROOT, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>%n",
                LEFT, TOP + PLOT_H, WIDTH - RIGHT, TOP + PLOT_H));
    }

    /** A y axis from 0 to {@code top} in whole steps of 1, 2 or 5 times a power of ten (about four of them). */
    record Scale(long top, long step) {
        static Scale of(long max) {
            if (max <= 0) {
                return new Scale(1, 1);
            }
            double raw = max / 4.0;
            long magnitude = 1;
            while (magnitude * 10 <= raw) {
                magnitude *= 10;
            }
            long step = magnitude;
            for (long m : new long[]{1, 2, 5, 10}) {
                if (m * magnitude >= raw) {
                    step = m * magnitude;
                    break;
                }
            }
            return new Scale((max + step - 1) / step * step, step);
        }

        double y(long v) {
            return TOP + PLOT_H - PLOT_H * (v / (double) top);
        }
    }
}
