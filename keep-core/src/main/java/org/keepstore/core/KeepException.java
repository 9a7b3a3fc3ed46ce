package org.keepstore.core;

import java.io.IOException;

/**
 * The one error family of the engine and its volumes. Each error carries the HTTP status it
 * maps to, so the server translates errors in exactly one place. It extends {@link IOException}
 * so volume methods, which do I/O, can throw it through their ordinary signatures.
 *
 * <p>Messages are the reference server's wording where clients may match on them.
 */
public class KeepException extends IOException {
    public static final String INVALID_LOCATOR = "invalid locator";
    public static final String INVALID_SIGNATURE = "invalid signature";
    public static final String EXPIRED_SIGNATURE = "expired signature";
    public static final String NO_TOKEN = "no token provided in Authorization header";
    public static final String METHOD_NOT_ALLOWED = "method not allowed";
    public static final String HASH_COLLISION = "hash collision";
    public static final String CHECKSUM_MISMATCH = "checksum mismatch in stored data";
    public static final String INSUFFICIENT_STORAGE = "insufficient storage";
    public static final String TOO_LARGE = "request entity too large";
    public static final String VOLUME_UNAVAILABLE = "volume unavailable";
    public static final String NOT_FOUND = "Not Found";

    private final int status;

    public KeepException(int status, String message) {
        super(message);
        this.status = status;
    }

    public KeepException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status this error maps to. */
    public int status() {
        return status;
    }

    /** 400: the request itself is malformed (locator, body, JSON, signature). */
    public static KeepException badRequest(String message) {
        return new KeepException(400, message);
    }

    /** 401: no token where one is needed, or an expired signature. */
    public static KeepException unauthorized(String message) {
        return new KeepException(401, message);
    }

    /** 403: a token that is not allowed here. */
    public static KeepException forbidden(String message) {
        return new KeepException(403, message);
    }

    /** 405: GET without size hint, DELETE when trash is disabled. */
    public static KeepException methodNotAllowed() {
        return new KeepException(405, METHOD_NOT_ALLOWED);
    }

    /** 413: body longer than {@link Locator#MAX_BLOCK_SIZE}. */
    public static KeepException tooLarge() {
        return new KeepException(413, TOO_LARGE);
    }

    /** 503: a volume or the server cannot serve now (timeouts, backend down, too many requests). */
    public static KeepException unavailable(String message, Throwable cause) {
        return new KeepException(503, message, cause);
    }

    /** 507: nowhere to write. */
    public static KeepException insufficientStorage() {
        return new KeepException(507, INSUFFICIENT_STORAGE);
    }
}
