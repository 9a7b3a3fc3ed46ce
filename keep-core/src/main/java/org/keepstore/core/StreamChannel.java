package org.keepstore.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * An {@link InputStream} read as a blocking channel. Unlike {@link java.nio.channels.Channels#newChannel},
 * an interrupt does not close the stream (a request thread is interrupted to end a wait, not to
 * break the volume's stream), and a heap buffer is read into directly.
 */
final class StreamChannel implements ReadableByteChannel {
    private static final int SCRATCH_SIZE = 64 << 10;

    private final InputStream in;
    private byte[] scratch;
    private boolean open = true;

    StreamChannel(InputStream in) {
        this.in = in;
    }

    /** The stream as a channel: a stream that is a channel already (e.g. a file's) is used as is. */
    static ReadableByteChannel of(InputStream in) {
        return in instanceof ReadableByteChannel channel ? channel : new StreamChannel(in);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!dst.hasRemaining()) {
            return 0;
        }
        if (dst.hasArray()) {
            int n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        }
        if (scratch == null) {
            scratch = new byte[SCRATCH_SIZE];
        }
        int n = in.read(scratch, 0, Math.min(scratch.length, dst.remaining()));
        if (n > 0) {
            dst.put(scratch, 0, n);
        }
        return n;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() throws IOException {
        open = false;
        in.close();
    }
}
