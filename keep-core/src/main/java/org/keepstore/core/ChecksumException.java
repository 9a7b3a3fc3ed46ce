package org.keepstore.core;

/** 502: stored data does not match its hash (a corrupt copy) and no good copy was found. */
public class ChecksumException extends KeepException {
    public ChecksumException(String hash) {
        super(502, CHECKSUM_MISMATCH + ": " + hash);
    }
}
