package org.keepstore.core;

/**
 * 500: a stored block has the same hash as the data being written but different content. The
 * message is exactly the reference server's wording, which clients may match; {@link #hash()}
 * names the block.
 */
public class CollisionException extends KeepException {
    private final String hash;

    public CollisionException(String hash) {
        super(500, HASH_COLLISION);
        this.hash = hash;
    }

    /** The hash of the block written. */
    public String hash() {
        return hash;
    }
}
