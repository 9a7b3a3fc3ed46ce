package org.keepstore.core;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where {@link KeepStore#read} delivers a block. The engine calls {@link #begin} once, before
 * the first byte, then {@link #write} with consecutive chunks. The final chunk is withheld until
 * the whole block's MD5 matched, so a sink never receives all bytes of a corrupt copy.
 * If verification fails after some bytes were delivered, {@code read} throws and the sink must
 * make the response end short (e.g. close the connection without finishing the body).
 *
 * <p><b>Threads.</b> For a block of up to 1 MiB the sink is called on the thread that called
 * {@code read}. For a larger one it is called on the engine's helper threads, so that sending
 * overlaps reading and hashing: one call at a time and in order, but not on the caller's thread
 * (its thread-locals are not there) and not necessarily all on one thread. The caller's
 * interrupt does not reach such a call, and {@code read} holds a pool buffer until the sink has
 * taken every chunk, so a sink must not block without end; in particular it must not wait for
 * another large read or write that needs a buffer of the same {@link BufferPool}, which may be
 * the one it holds (copying a block from one store to another sharing a one-buffer pool through
 * a pipe would wait forever).
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
