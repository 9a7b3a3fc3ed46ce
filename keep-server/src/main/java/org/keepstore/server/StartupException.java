package org.keepstore.server;

/**
 * A reason the server cannot start (unreadable key file, missing volume directory, busy pid
 * file, …). {@link Main} prints the message as one line on stderr and exits non-zero before
 * listening, so the message must make sense on its own.
 */
public final class StartupException extends Exception {
    public StartupException(String message) {
        super(message);
    }

    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
