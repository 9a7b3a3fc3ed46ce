package org.keepstore.server.http;

import io.undertow.util.HeaderMap;
import io.undertow.util.HttpString;

/** The CORS headers every response carries, errors included (SPEC §3), so browsers can use Keep directly. */
final class Cors {
    private static final HttpString ALLOW_ORIGIN = HttpString.tryFromString("Access-Control-Allow-Origin");
    private static final HttpString ALLOW_METHODS = HttpString.tryFromString("Access-Control-Allow-Methods");
    private static final HttpString ALLOW_HEADERS = HttpString.tryFromString("Access-Control-Allow-Headers");
    private static final HttpString EXPOSE_HEADERS = HttpString.tryFromString("Access-Control-Expose-Headers");
    private static final HttpString MAX_AGE = HttpString.tryFromString("Access-Control-Max-Age");

    private Cors() {
    }

    static void addHeaders(HeaderMap headers) {
        headers.put(ALLOW_ORIGIN, "*");
        headers.put(ALLOW_METHODS, "GET, HEAD, PUT, OPTIONS");
        headers.put(ALLOW_HEADERS, "Authorization, Content-Length, Content-Type, X-Keep-Desired-Replicas,"
                + " X-Keep-Signature, X-Keep-Storage-Classes");
        headers.put(EXPOSE_HEADERS, "X-Keep-Locator, X-Keep-Replicas-Stored, X-Keep-Storage-Classes-Confirmed");
        headers.put(MAX_AGE, "86486400");
    }
}
