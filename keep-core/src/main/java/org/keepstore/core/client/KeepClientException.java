package org.keepstore.core.client;

import java.io.IOException;
import java.util.List;

/**
 * A {@link KeepClient} request that no service could satisfy.
 *
 * <p>The message lists what each service answered (service root and a short reason; never the
 * token or a full signature).
 */
public class KeepClientException extends IOException {
    private final int status;
    private final List<String> attempts;

    KeepClientException(String message, int status, List<String> attempts) {
        super(message + (attempts.isEmpty() ? "" : ": " + String.join("; ", attempts)));
        this.status = status;
        this.attempts = List.copyOf(attempts);
    }

    /**
     * The HTTP status that decided the outcome: 404 when every service said the block is not
     * there, the status of the refusing response when a request was refused outright (e.g. 400,
     * 413), else the last HTTP error status seen, or 0 when no service answered at all.
     */
    public int status() {
        return status;
    }

    /** True when every service answered 404. */
    public boolean isNotFound() {
        return status == 404;
    }

    /** One line per failed attempt, in the order they were made. */
    public List<String> attempts() {
        return attempts;
    }
}
