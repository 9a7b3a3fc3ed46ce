package org.keepstore.server.config;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import org.keepstore.core.GoDuration;

/**
 * One place in a parsed cluster config, with its dotted path ({@code Clusters.zzzzz.Collections})
 * so that every error and warning names the key it is about. Typed getters accept what the
 * reference's config loader accepts and throw {@link ConfigException} for anything else; a key
 * that is absent (or explicitly {@code null}) gives the default.
 */
final class ConfigNode {
    /** Placeholder entries of the reference's {@code config.default.yml}; its loader drops them too. */
    static final String SAMPLE = "SAMPLE";

    private final JsonNode node;
    private final String path;
    private final List<String> warnings;

    ConfigNode(JsonNode node, String path, List<String> warnings) {
        this.node = node == null ? MissingNode.getInstance() : node;
        this.path = path;
        this.warnings = warnings;
    }

    String path() {
        return path;
    }

    /** Absent or {@code null} (YAML {@code Key:} with nothing after it). */
    boolean isAbsent() {
        return node.isMissingNode() || node.isNull();
    }

    ConfigNode child(String key) {
        return new ConfigNode(node.get(key), path.isEmpty() ? key : path + "." + key, warnings);
    }

    /** The entries of a map, in file order, without {@code SAMPLE}; an absent map is empty. */
    Map<String, ConfigNode> entries() throws ConfigException {
        Map<String, ConfigNode> result = new LinkedHashMap<>();
        if (isAbsent()) {
            return result;
        }
        if (!node.isObject()) {
            throw new ConfigException(path + ": expected a map of keys to values");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals(SAMPLE)) {
                result.put(name, child(name));
            }
        }
        return result;
    }

    /**
     * Warns about keys of this map that are neither {@code used} here nor {@code ignored} (keys
     * the reference defines for other Arvados services). A typo in a key would otherwise silently
     * leave the default in force.
     */
    void warnUnknownKeys(Set<String> used, Set<String> ignored) throws ConfigException {
        for (String key : entries().keySet()) {
            if (!used.contains(key) && !ignored.contains(key)) {
                warnings.add("unknown key " + child(key).path + " (ignored)");
            }
        }
    }

    void warn(String message) {
        warnings.add(message);
    }

    String string(String defaultValue) throws ConfigException {
        if (isAbsent()) {
            return defaultValue;
        }
        if (!node.isValueNode() || node.isBinary()) {
            throw new ConfigException(path + ": expected a string");
        }
        return node.asText();
    }

    boolean bool(boolean defaultValue) throws ConfigException {
        if (isAbsent()) {
            return defaultValue;
        }
        if (!node.isBoolean()) {
            throw new ConfigException(path + ": expected true or false, not " + shown());
        }
        return node.booleanValue();
    }

    int integer(int defaultValue) throws ConfigException {
        if (isAbsent()) {
            return defaultValue;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw new ConfigException(path + ": expected a whole number, not " + shown());
        }
        return node.intValue();
    }

    /**
     * A duration in Go syntax ({@code 336h}, {@code 10s}, {@code 1h30m}), as the reference reads
     * it: a string with units; a bare {@code 0} is the only number allowed.
     */
    Duration duration(Duration defaultValue) throws ConfigException {
        if (isAbsent()) {
            return defaultValue;
        }
        if (node.isNumber()) {
            if (node.isIntegralNumber() && node.asLong() == 0) {
                return Duration.ZERO;
            }
            throw new ConfigException(path + ": " + node.asText() + " is not a duration: give a unit, e.g. "
                    + node.asText() + "s");
        }
        if (!node.isTextual()) {
            throw new ConfigException(path + ": expected a duration such as 336h or 10s");
        }
        try {
            return GoDuration.parse(node.textValue().trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path + ": " + e.getMessage() + " (durations are written like 336h, 90m or 10s)");
        }
    }

    /** The subtree as plain Java values (maps, lists, strings, numbers, booleans), without nulls. */
    Object plainValue() {
        return toPlain(node);
    }

    private static Object toPlain(JsonNode n) {
        if (n.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isNull()) {
                    map.put(e.getKey(), toPlain(e.getValue()));
                }
            }
            return map;
        }
        if (n.isArray()) {
            List<Object> list = new java.util.ArrayList<>();
            for (JsonNode item : n) {
                if (!item.isNull()) {
                    list.add(toPlain(item));
                }
            }
            return list;
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isIntegralNumber()) {
            return n.canConvertToLong() ? (Object) n.longValue() : n.bigIntegerValue();
        }
        if (n.isNumber()) {
            return n.doubleValue();
        }
        return n.asText();
    }

    /** The value for an error message; never used for values that may be secrets. */
    private String shown() {
        String text = node.isContainerNode() ? (node.isArray() ? "a list" : "a map") : node.asText();
        return text.length() > 40 ? text.substring(0, 40) + "…" : "\"" + text + "\"";
    }
}
