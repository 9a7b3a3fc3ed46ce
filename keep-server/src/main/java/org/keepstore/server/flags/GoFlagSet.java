package org.keepstore.server.flags;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A command-line parser with the syntax and messages of Go's {@code flag} package, so operators
 * can keep the command lines they used with the reference keepstore: {@code -name=value},
 * {@code -name value}, {@code --name}, booleans as {@code -name} or {@code -name=false}, parsing
 * stops at the first non-flag argument or at {@code --}. Values are handed to each flag's setter
 * in command-line order, which is what makes order-sensitive flags such as {@code -readonly}
 * possible.
 */
final class GoFlagSet {

    /** Receives a flag's value; throws {@link IllegalArgumentException} with a short reason if it is invalid. */
    @FunctionalInterface
    interface Setter {
        void set(String value);
    }

    /**
     * One flag as shown in the usage text.
     *
     * @param typeName     shown after the name ({@code string}, {@code int}, {@code duration},
     *                     {@code value}, or a word from the usage in back-quotes); empty for booleans
     * @param defaultText  the default as Go would print it; null or a zero value = not printed
     */
    private record Flag(String name, boolean isBool, String typeName, String usage, String defaultText,
                        boolean quoteDefault, Setter setter) {
    }

    private final String program;
    private final Map<String, Flag> flags = new TreeMap<>();
    /** Names of the flags the command line gave, in order of first appearance. */
    private final Set<String> given = new LinkedHashSet<>();

    GoFlagSet(String program) {
        this.program = program;
    }

    void bool(String name, boolean defaultValue, String usage, Setter setter) {
        add(new Flag(name, true, "", usage, defaultValue ? "true" : null, false, setter));
    }

    void string(String name, String defaultValue, String usage, Setter setter) {
        add(new Flag(name, false, "string", usage, defaultValue == null || defaultValue.isEmpty() ? null : defaultValue,
                true, setter));
    }

    void integer(String name, long defaultValue, String usage, Setter setter) {
        add(new Flag(name, false, "int", usage, defaultValue == 0 ? null : Long.toString(defaultValue), false, setter));
    }

    void duration(String name, String defaultText, String usage, Setter setter) {
        add(new Flag(name, false, "duration", usage, "0s".equals(defaultText) ? null : defaultText, false, setter));
    }

    /** A flag with a custom value type (Go's {@code flag.Var}), e.g. a repeatable list. */
    void value(String name, String usage, Setter setter) {
        add(new Flag(name, false, "value", usage, null, false, setter));
    }

    private void add(Flag flag) {
        // Go takes the type shown in the usage from a back-quoted word in the description.
        String usage = flag.usage();
        int open = usage.indexOf('`');
        int close = open < 0 ? -1 : usage.indexOf('`', open + 1);
        if (close > open) {
            String word = usage.substring(open + 1, close);
            usage = usage.substring(0, open) + word + usage.substring(close + 1);
            flag = new Flag(flag.name(), flag.isBool(), word, usage, flag.defaultText(), flag.quoteDefault(),
                    flag.setter());
        }
        if (flags.put(flag.name(), flag) != null) {
            throw new IllegalStateException("flag defined twice: " + flag.name());
        }
    }

    /**
     * Parses {@code args}, calling setters in order.
     *
     * @return the arguments left after the flags
     * @throws FlagException for {@code -h}/{@code -help}, unknown flags and invalid values
     */
    List<String> parse(List<String> args) throws FlagException {
        int i = 0;
        while (i < args.size()) {
            String arg = args.get(i);
            if (arg.length() < 2 || arg.charAt(0) != '-') {
                break;
            }
            int minuses = 1;
            if (arg.charAt(1) == '-') {
                minuses = 2;
                if (arg.length() == 2) {
                    i++;
                    break;
                }
            }
            String name = arg.substring(minuses);
            if (name.isEmpty() || name.charAt(0) == '-' || name.charAt(0) == '=') {
                throw new FlagException(FlagException.Kind.SYNTAX, "bad flag syntax: " + arg);
            }
            i++;
            String value = null;
            int eq = name.indexOf('=', 1);
            if (eq > 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            Flag flag = flags.get(name);
            if (flag == null) {
                if (name.equals("h") || name.equals("help")) {
                    throw new FlagException(FlagException.Kind.HELP, "");
                }
                throw new FlagException(FlagException.Kind.UNKNOWN, "flag provided but not defined: -" + name);
            }
            if (flag.isBool()) {
                String text = value == null ? "true" : value;
                Boolean parsed = parseBool(text);
                if (parsed == null) {
                    throw new FlagException(FlagException.Kind.INVALID_VALUE,
                            "invalid boolean value \"" + text + "\" for -" + name + ": parse error");
                }
                set(flag, parsed.toString(), text);
                continue;
            }
            if (value == null) {
                if (i >= args.size()) {
                    throw new FlagException(FlagException.Kind.INVALID_VALUE, "flag needs an argument: -" + name);
                }
                value = args.get(i++);
            }
            set(flag, value, value);
        }
        return List.copyOf(args.subList(i, args.size()));
    }

    private void set(Flag flag, String value, String shown) throws FlagException {
        given.add(flag.name());
        try {
            flag.setter().set(value);
        } catch (IllegalArgumentException e) {
            String reason = e.getMessage() == null ? "parse error" : e.getMessage();
            throw new FlagException(FlagException.Kind.INVALID_VALUE,
                    "invalid value \"" + shown + "\" for flag -" + flag.name() + ": " + reason);
        }
    }

    /** Go's {@code strconv.ParseBool}; null when the text is not a boolean. */
    static Boolean parseBool(String text) {
        return switch (text) {
            case "1", "t", "T", "TRUE", "true", "True" -> Boolean.TRUE;
            case "0", "f", "F", "FALSE", "false", "False" -> Boolean.FALSE;
            default -> null;
        };
    }

    /** Go's {@code strconv.ParseInt(s, 0, 64)} for the forms operators write: decimal, 0x…, 0o…, 0b…. */
    static long parseInt(String text) {
        String s = text.replace("_", "");
        boolean negative = s.startsWith("-");
        if (negative || s.startsWith("+")) {
            s = s.substring(1);
        }
        int radix = 10;
        String lower = s.toLowerCase();
        if (lower.startsWith("0x")) {
            radix = 16;
            s = s.substring(2);
        } else if (lower.startsWith("0o")) {
            radix = 8;
            s = s.substring(2);
        } else if (lower.startsWith("0b")) {
            radix = 2;
            s = s.substring(2);
        } else if (s.length() > 1 && s.startsWith("0")) {
            radix = 8;
            s = s.substring(1);
        }
        if (s.isEmpty() || s.startsWith("-") || s.startsWith("+")) {
            throw new IllegalArgumentException("parse error");
        }
        try {
            long v = Long.parseLong(s, radix);
            return negative ? -v : v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(text.isEmpty() ? "parse error" : "parse error");
        }
    }

    /** The usage text in the layout of Go's {@code flag.PrintDefaults}, flags sorted by name. */
    String usage() {
        StringBuilder out = new StringBuilder("Usage of ").append(program).append(":\n");
        for (Flag flag : flags.values()) {
            StringBuilder line = new StringBuilder("  -").append(flag.name());
            if (!flag.typeName().isEmpty()) {
                line.append(' ').append(flag.typeName());
            }
            // Go keeps the description on the same line only for one-letter boolean flags.
            line.append(line.length() <= 4 ? "\t" : "\n    \t");
            line.append(flag.usage().replace("\n", "\n    \t"));
            if (flag.defaultText() != null) {
                line.append(" (default ");
                line.append(flag.quoteDefault() ? "\"" + flag.defaultText() + "\"" : flag.defaultText());
                line.append(')');
            }
            out.append(line).append('\n');
        }
        return out.toString();
    }

    /** The flags the parsed command line gave (not those left at their defaults). */
    Set<String> given() {
        return Set.copyOf(given);
    }

    List<String> names() {
        return new ArrayList<>(flags.keySet());
    }
}
