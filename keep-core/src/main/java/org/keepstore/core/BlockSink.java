package org.keepstore.core;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where {@link KeepStore#read} delivers a block. The engine calls {@link #begin} once, before
 * the first byte, then {@link #write} with consecutive chunks. The final chunk is withheld until
 * the whole block's MD5 matched, so a sink never receives all bytes of a corrupt copy.
 * If verification fails after some bytes were delivered, {@code read} throws and the sink must
 * make the response end short (e.g. close the connection without finishing the body).
 */
public interface BlockSink {
    /** The size of the block about to be delivered (e.g. to set Content-Length). */
    void begin(long size) throws IOException;

    /**
     * The next chunk, from {@code position()} to {@code limit()}. The buffer is reused by the
     * engine after this returns, so the sink must consume (or copy) it before returning.
     */
    void write(ByteBuffer chunk) throws IOException;
}
