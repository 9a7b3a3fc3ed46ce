package org.keepstore.volumes.s3;

import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Reads the remaining bytes of a buffer without copying it first, so a 64 MiB block goes from the
 * engine's pool buffer straight to the HTTP connection. Owns its own view of the buffer: the
 * caller's position and limit are never changed.
 */
final class ByteBufferInputStream extends InputStream {
    private final ByteBuffer buffer;

    ByteBufferInputStream(ByteBuffer source) {
        this.buffer = source.duplicate();
    }

    @Override
    public int read() {
        return buffer.hasRemaining() ? buffer.get() & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (len == 0) {
            return 0;
        }
        if (!buffer.hasRemaining()) {
            return -1;
        }
        int n = Math.min(len, buffer.remaining());
        buffer.get(b, off, n);
        return n;
    }

    @Override
    public long skip(long n) {
        int skipped = (int) Math.max(0, Math.min(n, buffer.remaining()));
        buffer.position(buffer.position() + skipped);
        return skipped;
    }

    @Override
    public int available() {
        return buffer.remaining();
    }
}
