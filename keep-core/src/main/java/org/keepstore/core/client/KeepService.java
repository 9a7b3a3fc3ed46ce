package org.keepstore.core.client;

import java.net.URI;
import java.util.Objects;

/**
 * One keep server as a client sees it: its root URL and, when known, its service UUID.
 *
 * <p>The UUID decides where the service falls in the rendezvous order (see
 * {@link KeepClient#serviceOrder}); without one, the root URL takes its place, so every client
 * given the same roots still agrees on the order.
 *
 * @param root the service root, {@code http://host:port} (no trailing slash, no path)
 * @param uuid the keep service UUID (e.g. {@code zzzzz-bi6l4-000000000000000}), or null
 */
public record KeepService(String root, String uuid) {

    public KeepService {
        Objects.requireNonNull(root, "root");
        root = normalizeRoot(root);
        if (uuid != null && uuid.isBlank()) {
            uuid = null;
        }
    }

    /** A service known only by its root URL. */
    public static KeepService of(String root) {
        return new KeepService(root, null);
    }

    /**
     * A service as a pull list names it: {@code http://host:port}, {@code https://…}, or a bare
     * {@code host:port}, which means {@code http://host:port} (SPEC §9).
     */
    public static KeepService fromPullListEntry(String server) {
        String s = server.trim();
        if (!s.contains("://")) {
            s = "http://" + s;
        }
        return of(s);
    }

    /** The string hashed with the block hash to place this service in the rendezvous order. */
    String rendezvousKey() {
        if (uuid == null) {
            return root;
        }
        // A full 27-char UUID contributes only its unique 15-char tail, as the Arvados SDKs do.
        return uuid.length() == 27 ? uuid.substring(12) : uuid;
    }

    private static String normalizeRoot(String root) {
        String r = root.trim();
        while (r.endsWith("/")) {
            r = r.substring(0, r.length() - 1);
        }
        URI uri;
        try {
            uri = URI.create(r);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a service root URL: " + root, e);
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())) {
            throw new IllegalArgumentException("service root must be http:// or https://: " + root);
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("service root has no host: " + root);
        }
        return r;
    }
}
