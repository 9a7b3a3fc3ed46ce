package org.keepstore.server.flags;

/** A command line that cannot be run; {@link #kind()} decides what is printed and the exit status. */
public final class FlagException extends Exception {

    /** What went wrong. */
    public enum Kind {
        /** {@code -h} / {@code -help}: print usage, exit 0. */
        HELP,
        /** An undefined flag: message, usage, exit 2. */
        UNKNOWN,
        /** Malformed flag syntax: message, usage, exit 2. */
        SYNTAX,
        /** A flag value that does not parse: one line, exit 2. */
        INVALID_VALUE
    }

    private final Kind kind;

    FlagException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
