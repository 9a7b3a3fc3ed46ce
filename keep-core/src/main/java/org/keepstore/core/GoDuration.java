package org.keepstore.core;

import java.math.BigDecimal;
import java.time.Duration;

/**
 * Durations in the syntax of Go's {@code time.ParseDuration}, which the reference keepstore's
 * flags and the Arvados cluster config use: a sequence of decimal numbers, each with an optional
 * fraction and a unit ({@code ns}, {@code us}/{@code µs}, {@code ms}, {@code s}, {@code m},
 * {@code h}), optionally signed, e.g. {@code 10s}, {@code 1h30m}, {@code 24h0m0s},
 * {@code 1.5h}. A bare {@code 0} is allowed; other numbers without a unit, and units such as
 * {@code d} or {@code w}, are not.
 */
public final class GoDuration {
    private GoDuration() {
    }

    /**
     * Parses a Go duration.
     *
     * @throws IllegalArgumentException with Go's wording ("invalid duration", "missing unit in
     *                                  duration", "unknown unit") and the offending text
     */
    public static Duration parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("invalid duration \"\"");
        }
        String s = text;
        boolean negative = false;
        if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
            negative = s.charAt(0) == '-';
            s = s.substring(1);
        }
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\"");
        }
        BigDecimal totalNanos = BigDecimal.ZERO;
        int i = 0;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                i++;
            }
            String number = s.substring(start, i);
            if (number.isEmpty() || number.equals(".") || number.indexOf('.') != number.lastIndexOf('.')) {
                throw new IllegalArgumentException("invalid duration \"" + text + "\"");
            }
            int unitStart = i;
            while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
                i++;
            }
            String unit = s.substring(unitStart, i);
            if (unit.isEmpty()) {
                throw new IllegalArgumentException("missing unit in duration \"" + text + "\"");
            }
            long nanosPerUnit = switch (unit) {
                case "ns" -> 1L;
                case "us", "µs", "μs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> throw new IllegalArgumentException(
                        "unknown unit \"" + unit + "\" in duration \"" + text + "\"");
            };
            String digits = number.startsWith(".") ? "0" + number : number;
            totalNanos = totalNanos.add(new BigDecimal(digits).multiply(BigDecimal.valueOf(nanosPerUnit)));
        }
        if (totalNanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\"");
        }
        long nanos = totalNanos.longValue();
        return Duration.ofNanos(negative ? -nanos : nanos);
    }

    /** Formats like Go's {@code Duration.String()} for whole seconds and above, e.g. {@code 24h0m0s}. */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        StringBuilder sb = new StringBuilder();
        if (d.isNegative()) {
            sb.append('-');
            d = d.negated();
        }
        long hours = d.toHours();
        int minutes = d.toMinutesPart();
        int seconds = d.toSecondsPart();
        int nanos = d.toNanosPart();
        if (hours == 0 && minutes == 0 && seconds == 0) {
            if (nanos % 1_000_000 == 0) {
                return sb.append(nanos / 1_000_000).append("ms").toString();
            }
            if (nanos % 1_000 == 0) {
                return sb.append(nanos / 1_000).append("µs").toString();
            }
            return sb.append(nanos).append("ns").toString();
        }
        if (hours > 0) {
            sb.append(hours).append('h');
        }
        if (hours > 0 || minutes > 0) {
            sb.append(minutes).append('m');
        }
        sb.append(seconds);
        if (nanos != 0) {
            String frac = String.format("%09d", nanos).replaceAll("0+$", "");
            sb.append('.').append(frac);
        }
        return sb.append('s').toString();
    }
}
