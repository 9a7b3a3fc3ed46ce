package org.keepstore.core;

/**
 * 502: stored data does not match its hash (a corrupt copy) and no good copy was found. The
 * message is exactly the reference server's wording, which clients may match; {@link #hash()}
 * names the block.
 */
public class ChecksumException extends KeepException {
    private final String hash;

    public ChecksumException(String hash) {
        super(502, CHECKSUM_MISMATCH);
        this.hash = hash;
    }

    /** The hash of the block read. */
    public String hash() {
        return hash;
    }
}
