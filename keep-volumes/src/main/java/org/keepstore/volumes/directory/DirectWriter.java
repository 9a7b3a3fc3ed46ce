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
 * writer on the machine) decide how long the fsync takes; the fsync after a direct write only
 * has metadata left to flush. Data in an aligned direct buffer (as the engine's pool buffers
 * are) goes to the disk as it is; anything else, and the unaligned tail, is copied through a
 * small aligned staging buffer first.
 *
 * <p>Where the filesystem refuses direct I/O (e.g. some tmpfs), {@link #isAvailable()} turns
 * false after the first refusal and the volume writes buffered as before. Thread-safe.
 */
final class DirectWriter {
    /** Blocks smaller than this are written buffered: for them the fsync dominates anyway. */
    static final int MIN_DIRECT_SIZE = 1 << 20;
    private static final int STAGING_SIZE = 1 << 20;
    /** Most bytes handed to the kernel in one write from the caller's buffer. */
    private static final int MAX_WRITE = 8 << 20;
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

    /** The alignment of offsets, lengths and memory that direct I/O needs here. */
    int alignment() {
        return alignment;
    }

    /** Opens an existing file for direct reading. */
    FileChannel openForReading(Path file) throws IOException {
        return FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
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
        long length = data.remaining();
        long end = writeAt(out, data, 0);
        if (end != length) {
            out.truncate(length);
        }
        return length;
    }

    /**
     * Writes {@code data} (position to limit; not moved) at {@code offset} of {@code out}, a
     * multiple of the alignment. An unaligned last piece is padded with zeros, so the file may
     * end up longer than the data: the caller truncates it once all pieces are written.
     *
     * @return where the written bytes end in the file, padding included
     * @throws Refused if the very first write of the file is refused as invalid: nothing was written
     */
    long writeAt(FileChannel out, ByteBuffer data, long offset) throws IOException {
        if (offset % alignment != 0) {
            throw new IllegalArgumentException("offset " + offset + " is not a multiple of " + alignment);
        }
        ByteBuffer src = data.duplicate();
        long position = offset;
        if (src.isDirect() && src.alignmentOffset(src.position(), alignment) == 0) {
            // Whole aligned units straight from the caller's memory; only the tail is staged.
            int aligned = src.remaining() / alignment * alignment;
            ByteBuffer direct = src.slice(src.position(), aligned);
            while (direct.hasRemaining()) {
                direct.limit(Math.min(aligned, direct.position() + MAX_WRITE));
                position += writeFully(out, direct, position);
                direct.limit(aligned);
            }
            src.position(src.position() + aligned);
        }
        ByteBuffer staging = takeStaging();
        try {
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
                position += writeFully(out, staging, position);
            }
            return position;
        } finally {
            idleStaging.add(staging);
        }
    }

    /** Writes all of {@code buffer} at {@code position}; returns the bytes written. */
    private static int writeFully(FileChannel out, ByteBuffer buffer, long position) throws IOException {
        int total = 0;
        while (buffer.hasRemaining()) {
            try {
                total += out.write(buffer, position + total);
            } catch (IOException e) {
                if (position + total == 0 && e.getMessage() != null && e.getMessage().contains("Invalid argument")) {
                    throw new Refused(e);
                }
                throw e;
            }
        }
        return total;
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
