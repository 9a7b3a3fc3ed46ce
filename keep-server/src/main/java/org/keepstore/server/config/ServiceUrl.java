package org.keepstore.server.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A service URL of the cluster config ({@code http://keep0.example:25107}), reduced to what
 * identifies it: scheme, host and port. Two spellings of the same endpoint ({@code HTTP://Keep0/}
 * and {@code http://keep0:80}) are equal, which is how {@code AccessViaHosts} keys are matched
 * against {@code Services.Keepstore.InternalURLs} keys, as the reference's loader does after
 * normalising them.
 *
 * @param scheme {@code http} or {@code https}
 * @param host   lower-case host name or address; IPv6 addresses without brackets
 * @param port   the explicit port, or the scheme's default
 */
public record ServiceUrl(String scheme, String host, int port) {

    /** Parses a URL; {@code where} names the config key for the error message. */
    public static ServiceUrl parse(String text, String where) throws ConfigException {
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new ConfigException(where + ": \"" + text + "\" is not a URL (" + e.getReason() + ")");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new ConfigException(where + ": \"" + text + "\" must be an http:// or https:// URL");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new ConfigException(where + ": \"" + text + "\" has no host");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        return new ServiceUrl(scheme, host.toLowerCase(Locale.ROOT), port);
    }

    @Override
    public String toString() {
        String shownHost = host.contains(":") ? "[" + host + "]" : host;
        return scheme + "://" + shownHost + ":" + port;
    }
}
