package org.keepstore.core;

/** 404: the block (or, for untrash, its trashed copy) is not on the volume or on any mount. */
public class BlockNotFoundException extends KeepException {
    public BlockNotFoundException(String hash) {
        super(404, NOT_FOUND + (hash == null ? "" : ": " + hash));
    }

    public BlockNotFoundException() {
        super(404, NOT_FOUND);
    }
}
