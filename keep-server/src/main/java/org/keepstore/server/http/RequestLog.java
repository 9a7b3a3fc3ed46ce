package org.keepstore.server.http;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One access-log line per request: method, path (signatures and tokens redacted), status, bytes
 * in and out, duration and request id. Logged under {@code org.keepstore.server.access} so
 * operators can route or silence it on its own.
 */
final class RequestLog {
    private static final Logger log = LoggerFactory.getLogger("org.keepstore.server.access");

    /** The MAC part of a {@code +A<sig>@<exp>} hint; the expiry stays, it helps debugging. */
    private static final Pattern SIGNATURE = Pattern.compile("\\+A[^+@/?&]*");
    /** The signature in a remote hint, {@code +R<cluster>-<sig>@<exp>}; the cluster id stays. */
    private static final Pattern REMOTE_SIGNATURE = Pattern.compile("(\\+R[^+@/?&-]*-)[^+@/?&]*");
    private static final char[] ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz".toCharArray();

    /**
     * A fresh request id in the reference's style ({@code req-} + 20 base-36 chars). An id only
     * correlates log lines, it guards nothing, so it comes from a per-thread generator: a shared
     * SecureRandom costs 20 locked reads of the kernel's generator per request, a measurable
     * share of a 1 KiB GET.
     */
    String newRequestId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        char[] id = new char[20];
        for (int i = 0; i < id.length; i++) {
            id[i] = ID_ALPHABET[random.nextInt(ID_ALPHABET.length)];
        }
        return "req-" + new String(id);
    }

    /** Nanoseconds as milliseconds with three decimals, e.g. "12.345" (without String.format's cost). */
    static String milliseconds(long nanos) {
        long micros = Math.max(0, (nanos + 500) / 1000);
        long fraction = micros % 1000;
        return (micros / 1000) + (fraction < 10 ? ".00" : fraction < 100 ? ".0" : ".") + fraction;
    }

    /**
     * The path and query with every signature and token replaced by a placeholder, and with
     * spaces and control characters escaped (%XX), so that a request cannot add a field or a line
     * of its own to the log.
     *
     * @param path  the decoded path
     * @param query the raw query string, or null
     */
    static String redact(String path, String query) {
        String shown = escape(redactSignatures(path));
        if (query != null && !query.isEmpty()) {
            StringBuilder q = new StringBuilder();
            for (String parameter : query.split("&", -1)) {
                if (q.length() > 0) {
                    q.append('&');
                }
                int eq = parameter.indexOf('=');
                // Decoded, as the server reads them: ?api%5Ftoken=… is a token too.
                String name = decode(eq < 0 ? parameter : parameter.substring(0, eq));
                q.append(escape(redactSignatures(name)));
                if (eq >= 0) {
                    String value = decode(parameter.substring(eq + 1));
                    q.append('=').append("api_token".equalsIgnoreCase(name) ? "***" : escape(redactSignatures(value)));
                }
            }
            shown += "?" + q;
        }
        return shown;
    }

    private static String redactSignatures(String text) {
        // Most paths hold no signature: skip the regex for them (it runs for every request).
        String shown = text.contains("+A") ? SIGNATURE.matcher(text).replaceAll("+A***") : text;
        if (shown.contains("+R")) {
            shown = REMOTE_SIGNATURE.matcher(shown).replaceAll("$1***");
        }
        return shown;
    }

    /** %XX decoded; a '+' stays a '+' (not a space), so a signature hint still shows as one. */
    private static String decode(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        try {
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException badEscape) {
            return raw;
        }
    }

    /** Spaces, control characters, line separators and '%' as %XX (or %uXXXX); the rest as it is. */
    static String escape(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (needsEscape(text.charAt(i))) {
                return escapeFrom(text, i);
            }
        }
        return text; // the usual case: nothing to escape, nothing allocated
    }

    private static boolean needsEscape(char c) {
        return c <= ' ' || c == '%' || (c >= 0x7f && c <= 0xa0) || c == 0x2028 || c == 0x2029;
    }

    private static String escapeFrom(String text, int first) {
        StringBuilder b = new StringBuilder(text.length() + 8).append(text, 0, first);
        for (int i = first; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c > 0xff && needsEscape(c)) {
                b.append("%u").append(String.format("%04X", (int) c));
            } else if (needsEscape(c)) {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    void log(String method, String path, String query, int status, long bytesIn, long bytesOut, long durationNanos,
             String requestId) {
        if (log.isInfoEnabled()) {
            log.info("{} {} {} in={} out={} {}ms {}", escape(method), redact(path, query), status, bytesIn, bytesOut,
                    milliseconds(durationNanos), escape(requestId));
        }
    }
}
