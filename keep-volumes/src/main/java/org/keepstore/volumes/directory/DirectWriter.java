package org.keepstore.volumes.directory;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Writes large blocks with direct I/O ({@code O_DIRECT}): from an aligned staging buffer
 * straight to the disk, past the page cache. A buffered write followed by fsync copies 64 MiB
 * into the page cache, where writeback and dirty-page throttling (shared with every other
 * writer on the machine) decide how long the fsync takes; a direct write costs one copy into
 * the staging buffer, which the JDK makes anyway for a heap buffer, and the fsync after it only
 * has metadata left to flush.
 *
 * <p>Where the filesystem refuses direct I/O (e.g. some tmpfs), {@link #isAvailable()} turns
 * false after the first refusal and the volume writes buffered as before. Thread-safe.
 */
final class DirectWriter {
    /** Blocks smaller than this are written buffered: for them the fsync dominates anyway. */
    static final int MIN_DIRECT_SIZE = 1 << 20;
    private static final int STAGING_SIZE = 1 << 20;
    private static final int DEFAULT_ALIGNMENT = 4096;

    private final int alignment;
    /** Staging buffers not in use; at most one per concurrent write is ever allocated. */
    private final ConcurrentLinkedQueue<ByteBuffer> idleStaging = new ConcurrentLinkedQueue<>();
    private volatile boolean available = true;

    DirectWriter(Path root) {
        int blockSize;
        try {
            blockSize = (int) Files.getFileStore(root).getBlockSize();
        } catch (IOException | UnsupportedOperationException e) {
            blockSize = DEFAULT_ALIGNMENT;
        }
        // Offsets, lengths and memory must be multiples of the device's logical block size; the
        // filesystem block size is such a multiple.
        this.alignment = blockSize > 0 && Integer.bitCount(blockSize) == 1 && STAGING_SIZE % blockSize == 0
                ? blockSize : DEFAULT_ALIGNMENT;
    }

    boolean isAvailable() {
        return available;
    }

    /** Direct I/O is not possible here: write buffered from now on. */
    void markUnavailable() {
        available = false;
    }

    /** Opens an existing (empty) file for direct writing. */
    FileChannel open(Path file) throws IOException {
        return FileChannel.open(file, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
    }

    /**
     * Writes {@code data} (position to limit; not moved) at the start of {@code out}, which must
     * come from {@link #open}. The last piece is padded to the alignment and the file truncated
     * back to the data's length. The caller still has to fsync.
     *
     * @return the number of data bytes written
     * @throws Refused if the very first write is refused as invalid: nothing was written
     */
    long write(FileChannel out, ByteBuffer data) throws IOException {
        ByteBuffer staging = takeStaging();
        try {
            ByteBuffer src = data.duplicate();
            long length = src.remaining();
            long position = 0;
            while (src.hasRemaining()) {
                int n = Math.min(staging.capacity(), src.remaining());
                staging.clear();
                staging.put(staging.position(), src, src.position(), n);
                src.position(src.position() + n);
                int padded = (n + alignment - 1) / alignment * alignment;
                // Zero the padding so no stale bytes ever reach the disk, even past the end.
                for (int i = n; i < padded; i++) {
                    staging.put(i, (byte) 0);
                }
                staging.limit(padded);
                while (staging.hasRemaining()) {
                    try {
                        position += out.write(staging, position);
                    } catch (IOException e) {
                        if (position == 0 && e.getMessage() != null && e.getMessage().contains("Invalid argument")) {
                            throw new Refused(e);
                        }
                        throw e;
                    }
                }
            }
            if (position != length) {
                out.truncate(length);
            }
            return length;
        } finally {
            idleStaging.add(staging);
        }
    }

    /** The filesystem opened the file for direct I/O but refused the first write (EINVAL). */
    static final class Refused extends IOException {
        Refused(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    private ByteBuffer takeStaging() {
        ByteBuffer staging = idleStaging.poll();
        if (staging == null) {
            staging = ByteBuffer.allocateDirect(STAGING_SIZE + alignment).alignedSlice(alignment);
            staging.limit(STAGING_SIZE);
            staging = staging.slice();
        }
        return staging;
    }
}
