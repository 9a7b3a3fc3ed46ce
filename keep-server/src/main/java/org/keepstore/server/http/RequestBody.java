package org.keepstore.server.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

import org.xnio.channels.Channels;
import org.xnio.channels.StreamSourceChannel;

/**
 * A request body read as a blocking channel on a worker thread: bytes go from the socket
 * straight into the caller's buffer (with no copy for a direct one), unlike Undertow's
 * input stream, which reads through its own small buffers. Counts the bytes for the access log
 * and remembers a read failure, so a body that broke off is reported as the client's fault.
 */
final class RequestBody implements ReadableByteChannel {
    private final StreamSourceChannel channel;
    private volatile long count;
    private volatile IOException failure;

    /** @param channel the exchange's request channel (only one reader may ever take it) */
    RequestBody(StreamSourceChannel channel) {
        this.channel = channel;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int n;
        try {
            // Waits (parking this worker thread, never an I/O thread) until a byte or the end arrives.
            n = Channels.readBlocking(channel, dst);
        } catch (IOException e) {
            failure = e;
            throw e;
        }
        if (n > 0) {
            count += n;
        }
        return n;
    }

    /** Bytes of the body read so far. */
    long count() {
        return count;
    }

    /** The error that ended reading the body early, or null. */
    IOException failure() {
        return failure;
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    /** Leaves the channel to Undertow, which drains or closes it when the exchange ends. */
    @Override
    public void close() {
    }
}
