package org.keepstore.core;

import java.io.IOException;

/**
 * Receives index entries one at a time, so an index of millions of blocks is streamed rather
 * than built in memory.
 */
@FunctionalInterface
public interface IndexSink {
    /**
     * One stored, non-trashed block.
     *
     * @param hash       the block's 32-hex hash
     * @param size       its stored size in bytes
     * @param mtimeNanos its modification time, nanoseconds since the Unix epoch
     */
    void accept(String hash, long size, long mtimeNanos) throws IOException;
}
