package org.keepstore.core;

import java.time.Duration;
import java.util.Map;

/**
 * Typed access to a volume's {@code DriverParameters} map, with errors that name the parameter
 * but never echo its value (it may be a secret).
 */
public final class DriverParameters {
    private final String driver;
    private final Map<String, Object> values;

    public DriverParameters(String driver, Map<String, Object> values) {
        this.driver = driver;
        this.values = values == null ? Map.of() : values;
    }

    public boolean has(String name) {
        Object v = values.get(name);
        return v != null && !(v instanceof String s && s.isEmpty());
    }

    /** A required non-empty string. */
    public String requiredString(String name) {
        if (!has(name)) {
            throw new IllegalArgumentException(driver + " volume: DriverParameters." + name + " is required");
        }
        return values.get(name).toString();
    }

    public String string(String name, String defaultValue) {
        return has(name) ? values.get(name).toString() : defaultValue;
    }

    public boolean bool(String name, boolean defaultValue) {
        if (!has(name)) {
            return defaultValue;
        }
        Object v = values.get(name);
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().trim();
        if (s.equalsIgnoreCase("true")) {
            return true;
        }
        if (s.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException(driver + " volume: DriverParameters." + name + " must be true or false");
    }

    public long number(String name, long defaultValue) {
        if (!has(name)) {
            return defaultValue;
        }
        Object v = values.get(name);
        if (v instanceof Number n) {
            return n.longValue();
        }
        try {
            return Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(driver + " volume: DriverParameters." + name + " must be a whole number");
        }
    }

    /** A Go-syntax duration string such as {@code 24h} (see {@link GoDuration}). */
    public Duration duration(String name, Duration defaultValue) {
        if (!has(name)) {
            return defaultValue;
        }
        Object v = values.get(name);
        if (v instanceof Number n && n.longValue() == 0) {
            return Duration.ZERO;
        }
        try {
            return GoDuration.parse(v.toString().trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(driver + " volume: DriverParameters." + name + ": " + e.getMessage());
        }
    }
}
