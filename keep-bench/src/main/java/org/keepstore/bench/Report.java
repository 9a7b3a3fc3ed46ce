package org.keepstore.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The driver's output: a Markdown table (every figure with min/median/max, its ratio to the
 * single-core MD5 line of the same run, and the goal it is held to) and an SVG chart of
 * throughput against concurrency.
 */
final class Report {

    /**
     * One line of the table.
     *
     * @param figure  what was measured
     * @param unit    the unit of the samples as displayed
     * @param samples the measurements, already in {@code unit}
     * @param ratio   the median as a fraction of the MD5 line (see {@code ratioBasis}), or NaN
     * @param goal    the goal in words, or "" when none
     * @param met     whether the goal is met; null when there is no goal
     * @param note    CPU use or other context
     */
    record Row(String figure, String unit, Samples samples, double ratio, String goal, Boolean met, String note) {
    }

    private Report() {
    }

    static String markdown(List<String> preamble, List<Row> rows) {
        StringBuilder md = new StringBuilder();
        md.append("# Keepstore load driver results\n\n");
        for (String line : preamble) {
            md.append("- ").append(line).append('\n');
        }
        md.append('\n');
        md.append("| figure | median | min | max | unit | ratio to MD5 | goal | met | notes |\n");
        md.append("|---|---:|---:|---:|---|---:|---|---|---|\n");
        for (Row row : rows) {
            md.append("| ").append(row.figure())
                    .append(" | ").append(number(row.samples().median()))
                    .append(" | ").append(number(row.samples().min()))
                    .append(" | ").append(number(row.samples().max()))
                    .append(" | ").append(row.unit())
                    .append(" | ").append(Double.isNaN(row.ratio()) ? "–" : String.format(Locale.ROOT, "%.3f", row.ratio()))
                    .append(" | ").append(row.goal().isEmpty() ? "–" : row.goal())
                    .append(" | ").append(row.met() == null ? "–" : row.met() ? "yes" : "**NO**")
                    .append(" | ").append(row.note())
                    .append(" |\n");
        }
        return md.toString();
    }

    /** A figure for the table; NaN (not measured) shows as "–". */
    static String number(double value) {
        if (Double.isNaN(value)) {
            return "–";
        }
        double abs = Math.abs(value);
        if (abs >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", value);
        }
        if (abs >= 100) {
            return String.format(Locale.ROOT, "%.0f", value);
        }
        if (abs >= 10) {
            return String.format(Locale.ROOT, "%.1f", value);
        }
        return String.format(Locale.ROOT, "%.2f", value);
    }

    /**
     * A two-panel chart: large-block MB/s against concurrent streams (with the one- and two-core
     * MD5 lines), and small-request requests/s against connections.
     *
     * @param streams      concurrency levels of the large-block panel
     * @param largeSeries  series name → samples per concurrency level (MB/s)
     * @param md5MBps      the single-core MD5 line
     * @param connections  concurrency levels of the small-request panel
     * @param smallSeries  series name → samples per level (requests/s)
     */
    static String svg(int[] streams, Map<String, List<Samples>> largeSeries, double md5MBps,
                      int[] connections, Map<String, List<Samples>> smallSeries) {
        StringBuilder svg = new StringBuilder();
        int width = 920;
        int height = 400;
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width)
                .append("\" height=\"").append(height).append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        double largeMax = Math.max(md5MBps * 2, maxOf(largeSeries));
        panel(svg, 60, 40, 370, 290, "64 MiB blocks: MB/s vs concurrent streams", streams, largeSeries, largeMax,
                new double[] {md5MBps, md5MBps * 2}, new String[] {"MD5 1 core", "MD5 2 cores"});
        panel(svg, 520, 40, 370, 290, "1 KiB blocks: requests/s vs connections", connections, smallSeries,
                maxOf(smallSeries), new double[0], new String[0]);
        svg.append("</svg>\n");
        return svg.toString();
    }

    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};

    private static void panel(StringBuilder svg, int x0, int y0, int w, int h, String title, int[] levels,
                              Map<String, List<Samples>> series, double yMax, double[] refLines, String[] refNames) {
        double top = niceCeiling(yMax * 1.05);
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>\n", x0, y0 - 15, escape(title)));
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", x0, y0, w, h));
        for (int i = 0; i <= 5; i++) {
            double value = top * i / 5;
            double y = y0 + h - h * i / 5.0;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", x0, x0 + w, y, y));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", x0 - 5, y + 4,
                    i == 0 ? "0" : number(value)));
        }
        for (int i = 0; i < levels.length; i++) {
            double x = xOf(x0, w, i, levels.length);
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", x, y0 + h + 16, levels[i]));
        }
        for (int r = 0; r < refLines.length; r++) {
            double y = y0 + h - h * refLines[r] / top;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" stroke-dasharray=\"6 4\"/>\n", x0, x0 + w, y, y));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" fill=\"#555\">%s</text>\n", x0 + 5, y - 4, escape(refNames[r])));
        }
        int s = 0;
        for (Map.Entry<String, List<Samples>> entry : series.entrySet()) {
            String colour = COLOURS[s % COLOURS.length];
            List<String> points = new ArrayList<>();
            List<Samples> values = entry.getValue();
            for (int i = 0; i < values.size() && i < levels.length; i++) {
                Samples v = values.get(i);
                if (v == null) {
                    continue;
                }
                double x = xOf(x0, w, i, levels.length);
                double y = y0 + h - h * v.median() / top;
                points.add(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
                double yMin = y0 + h - h * v.min() / top;
                double yMaxV = y0 + h - h * v.max() / top;
                svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x, x, yMin, yMaxV, colour));
                svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", x, y, colour));
            }
            svg.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>\n", colour, String.join(" ", points)));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>\n", x0 + 10 + 120 * s, y0 + h + 40, colour, escape(entry.getKey())));
            s++;
        }
    }

    private static double xOf(int x0, int w, int i, int n) {
        return x0 + w * (i + 0.5) / n;
    }

    private static double maxOf(Map<String, List<Samples>> series) {
        double max = 1;
        for (List<Samples> list : series.values()) {
            for (Samples v : list) {
                if (v != null) {
                    max = Math.max(max, v.max());
                }
            }
        }
        return max;
    }

    private static double niceCeiling(double value) {
        double magnitude = Math.pow(10, Math.floor(Math.log10(value)));
        for (double step : new double[] {1, 2, 2.5, 5, 10}) {
            if (step * magnitude >= value) {
                return step * magnitude;
            }
        }
        return 10 * magnitude;
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
