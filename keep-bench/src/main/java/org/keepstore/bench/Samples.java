package org.keepstore.bench;

import java.util.Arrays;

/**
 * Repeated measurements of one figure (e.g. bytes per second of one PUT), summarised as
 * minimum, median and maximum. The median is what ratios and goals use: it ignores a single
 * sample spoiled by another process on the shared machine.
 */
record Samples(double[] values) {

    Samples {
        if (values.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        values = values.clone();
        Arrays.sort(values);
    }

    static Samples of(double... values) {
        return new Samples(values);
    }

    double min() {
        return values[0];
    }

    double max() {
        return values[values.length - 1];
    }

    double median() {
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    int count() {
        return values.length;
    }
}
