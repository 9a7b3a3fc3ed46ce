package org.keepstore.core;

import java.util.ArrayList;
import java.util.List;

/**
 * A block locator: {@code HASH[+SIZE][+HINT...]} (SPEC §1).
 *
 * <p>{@code hash} is 32 lowercase hex digits. {@code size} is the size hint, or -1 when absent.
 * {@code hints} are the remaining {@code +}-separated parts in order, without the {@code +}:
 * {@code A…} permission signature, {@code R…} remote cluster, {@code K…} service, anything else
 * is carried along and ignored.
 */
public record Locator(String hash, long size, List<String> hints) {
    /** The largest block: 64 MiB. */
    public static final int MAX_BLOCK_SIZE = 64 * 1024 * 1024;
    /** MD5 of no bytes. */
    public static final String EMPTY_BLOCK_HASH = "d41d8cd98f00b204e9800998ecf8427e";

    public Locator {
        if (!isHash(hash)) {
            throw new IllegalArgumentException(KeepException.INVALID_LOCATOR);
        }
        if (size < -1) {
            throw new IllegalArgumentException(KeepException.INVALID_LOCATOR);
        }
        hints = List.copyOf(hints);
        for (int i = 0; i < hints.size(); i++) {
            String hint = hints.get(i);
            // What parse() refuses: the locator must print as text that parses back to itself. A
            // hint may start with a digit only where a size could stand (first, with no size).
            boolean inSizePlace = i == 0 && size < 0;
            if (hint.isEmpty() || hint.indexOf('+') >= 0 || isDecimal(hint)
                    || (!inSizePlace && hint.charAt(0) >= '0' && hint.charAt(0) <= '9')) {
                throw new IllegalArgumentException(KeepException.INVALID_LOCATOR + ": hint \"" + hint + "\"");
            }
        }
    }

    /** A locator with only a hash. */
    public static Locator ofHash(String hash) {
        return new Locator(hash, -1, List.of());
    }

    /** A locator {@code HASH+SIZE}. */
    public static Locator of(String hash, long size) {
        return new Locator(hash, size, List.of());
    }

    /**
     * Parses a locator, applying every rule of SPEC §1.
     *
     * @throws KeepException 400 "invalid locator" for any malformed input
     */
    public static Locator parse(String text) throws KeepException {
        if (text == null || text.length() < 32) {
            throw KeepException.badRequest(KeepException.INVALID_LOCATOR);
        }
        String hash = text.substring(0, 32);
        if (!isHash(hash)) {
            throw KeepException.badRequest(KeepException.INVALID_LOCATOR);
        }
        if (text.length() == 32) {
            return new Locator(hash, -1, List.of());
        }
        if (text.charAt(32) != '+') {
            throw KeepException.badRequest(KeepException.INVALID_LOCATOR);
        }
        String[] parts = text.substring(33).split("\\+", -1);
        long size = -1;
        List<String> hints = new ArrayList<>(parts.length);
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (part.isEmpty()) {
                throw KeepException.badRequest(KeepException.INVALID_LOCATOR);
            }
            if (i != 0 && part.charAt(0) >= '0' && part.charAt(0) <= '9') {
                // A size may only be the first hint, and, as the reference reads it, no later
                // hint may even start like one.
                throw KeepException.badRequest(KeepException.INVALID_LOCATOR);
            }
            if (isDecimal(part)) {
                size = parseSize(part);
            } else {
                hints.add(part);
            }
        }
        return new Locator(hash, size, hints);
    }

    /** True if {@code s} is exactly 32 lowercase hex digits. */
    public static boolean isHash(String s) {
        if (s == null || s.length() != 32) {
            return false;
        }
        for (int i = 0; i < 32; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDecimal(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static long parseSize(String s) throws KeepException {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw KeepException.badRequest(KeepException.INVALID_LOCATOR);
        }
    }

    public boolean hasSize() {
        return size >= 0;
    }

    /** The permission hint ({@code A…}, without the leading {@code +}), or null. */
    public String signatureHint() {
        return firstHint('A');
    }

    /** The remote-cluster hint ({@code R…}), or null. */
    public String remoteHint() {
        return firstHint('R');
    }

    private String firstHint(char kind) {
        for (String h : hints) {
            if (h.charAt(0) == kind) {
                return h;
            }
        }
        return null;
    }

    /** This locator without any permission hints. */
    public Locator withoutSignature() {
        List<String> kept = new ArrayList<>(hints.size());
        for (String h : hints) {
            if (h.charAt(0) != 'A') {
                kept.add(h);
            }
        }
        return new Locator(hash, size, kept);
    }

    /** {@code HASH+SIZE} (or {@code HASH} when there is no size), without any hints. */
    public String hashAndSize() {
        return hasSize() ? hash + "+" + size : hash;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(hashAndSize());
        for (String h : hints) {
            sb.append('+').append(h);
        }
        return sb.toString();
    }
}
