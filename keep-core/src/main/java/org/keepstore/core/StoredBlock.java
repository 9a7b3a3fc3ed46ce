package org.keepstore.core;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;

/**
 * A stored block opened for reading: its stored size and a stream of its bytes. The bytes are
 * not verified; the engine hashes them while it reads. Closing releases the underlying file,
 * connection or request.
 *
 * <p>A stream that also implements {@link java.nio.channels.ReadableByteChannel} (as a file's
 * does) is read through that channel, straight into the engine's direct buffers; any other
 * stream costs one copy through a small array.
 *
 * @param size   the number of bytes the volume holds for this block
 * @param stream the stored bytes, exactly {@code size} of them if the copy is intact
 */
public record StoredBlock(long size, InputStream stream) implements Closeable {
    @Override
    public void close() throws IOException {
        stream.close();
    }
}
