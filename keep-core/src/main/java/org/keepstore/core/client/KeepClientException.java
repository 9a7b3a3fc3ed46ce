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
     * The HTTP status that decided the outcome:
     * <ul>
     *   <li>404 only when every service asked said the block is not there;</li>
     *   <li>the status of the refusing response when a request was refused outright (e.g. 400,
     *       413);</li>
     *   <li>else the last HTTP error status seen other than 404, with 502 standing for an
     *       answer whose data did not match the locator;</li>
     *   <li>else 0: no service gave an answer beyond "not found" (connection errors, timeouts),
     *       so whether the block exists is unknown.</li>
     * </ul>
     */
    public int status() {
        return status;
    }

    /** True when every service asked answered 404: the block is on none of them. */
    public boolean isNotFound() {
        return status == 404;
    }

    /** One line per failed attempt, in the order they were made. */
    public List<String> attempts() {
        return attempts;
    }
}
