package org.keepstore.core;

/** 500: a stored block has the same hash as the data being written but different content. */
public class CollisionException extends KeepException {
    public CollisionException(String hash) {
        super(500, HASH_COLLISION + ": " + hash);
    }
}
