package org.keepstore.server.http;

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
    private static final Pattern TOKEN_PARAMETER = Pattern.compile("(?i)(api_token=)[^&]*");
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

    /** The path and query with every signature and token replaced by a placeholder. */
    static String redact(String path, String query) {
        // Most paths hold no signature: skip the regex for them (it runs for every request).
        String shown = path.contains("+A") ? SIGNATURE.matcher(path).replaceAll("+A***") : path;
        if (shown.contains("+R")) {
            shown = REMOTE_SIGNATURE.matcher(shown).replaceAll("$1***");
        }
        if (query != null && !query.isEmpty()) {
            shown += "?" + TOKEN_PARAMETER.matcher(SIGNATURE.matcher(query).replaceAll("+A***")).replaceAll("$1***");
        }
        return shown;
    }

    void log(String method, String path, String query, int status, long bytesIn, long bytesOut, long durationNanos,
             String requestId) {
        if (log.isInfoEnabled()) {
            log.info("{} {} {} in={} out={} {}ms {}", method, redact(path, query), status, bytesIn, bytesOut,
                    milliseconds(durationNanos), requestId);
        }
    }
}
