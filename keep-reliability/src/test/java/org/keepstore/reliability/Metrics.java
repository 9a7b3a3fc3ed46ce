package org.keepstore.reliability;

/** Reads values out of the Prometheus text the server's {@code /metrics} answers. */
final class Metrics {
    private Metrics() {
    }

    /** Sum of every sample of {@code name} whose label set contains all of {@code labels} ({@code k="v"}). */
    static double sum(String exposition, String name, String... labels) {
        double total = 0;
        for (String line : exposition.split("\n")) {
            if (line.startsWith("#") || !(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            boolean match = true;
            for (String label : labels) {
                match &= line.contains(label);
            }
            if (match) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    static String label(String key, String value) {
        return key + "=\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
