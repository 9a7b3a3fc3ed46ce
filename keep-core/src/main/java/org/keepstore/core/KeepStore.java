package org.keepstore.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The engine (SPEC §4–§6): reads, writes, touches, trashes and lists blocks over a set of
 * mounts, verifying every byte. It knows nothing of HTTP; errors are {@link KeepException}s
 * carrying their status. Thread-safe; one instance serves all requests.
 */
public final class KeepStore implements AutoCloseable {

    /**
     * Engine settings.
     *
     * @param clock            the source of "now" (mtimes, TTL protection)
     * @param blobSignatureTtl blocks younger than this are never trashed (SPEC §6)
     * @param trashEnabled     false = {@code -never-delete}: DELETE answers 405 and trash lists
     *                         are ignored
     */
    public record Options(Clock clock, Duration blobSignatureTtl, boolean trashEnabled) {
        public static Options defaults() {
            return new Options(Clock.systemUTC(), Duration.ofDays(14), true);
        }
    }

    public KeepStore(List<Mount> mounts, BufferPool pool, Options options) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** The mounts, in configuration order. */
    public List<Mount> mounts() {
        throw new UnsupportedOperationException("not yet implemented");
    }

    public BufferPool bufferPool() {
        throw new UnsupportedOperationException("not yet implemented");
    }

    public Options options() {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /**
     * Readable mounts in rendezvous order for a hash (SPEC §4): storage-class priority
     * descending, then {@code md5hex(hash + S)} ascending, where S is the UUID without its
     * first 12 chars when it is 27 chars long, else the whole UUID.
     */
    public List<Mount> rendezvousOrder(String hash) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /**
     * Reads a request body into a pool buffer while hashing it, then stores it (SPEC §5).
     *
     * @param hash           the hash the client claims (from the URL)
     * @param body           the request body
     * @param contentLength  the declared length, or -1 when unknown (chunked)
     * @param storageClasses classes to satisfy; empty = any mount
     * @throws KeepException 413 as soon as byte 64 MiB + 1 arrives (or the declared length is
     *                       larger); 400 when the MD5 differs or the body is shorter/longer than
     *                       declared; 500 collision; 507 / 503 when nothing could be written
     */
    public WriteResult write(String hash, InputStream body, long contentLength, Set<String> storageClasses)
            throws IOException, InterruptedException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /**
     * Stores a block already in memory (e.g. fetched by the pull worker). Verifies the MD5.
     *
     * @param mountUuid if not null, write to this mount only (it must be writable)
     */
    public WriteResult write(String hash, ByteBuffer data, Set<String> storageClasses, String mountUuid)
            throws IOException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /**
     * Streams a block to {@code sink}, verifying it (SPEC §4). A corrupt copy or error found
     * before the first byte was delivered makes the engine try the next mount.
     *
     * @return the number of bytes delivered
     * @throws KeepException 404 if no mount has it; 502 if every copy found was corrupt; the
     *                       error's own status if a mount failed and no other had it
     */
    public long read(String hash, BlockSink sink) throws IOException, InterruptedException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Reads and verifies a block without delivering it (HEAD). Returns its size. */
    public long verify(String hash) throws IOException, InterruptedException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Sets the mtime to now on the first writable mount (rendezvous order) holding the block; 404 if none. */
    public void touch(String hash) throws IOException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /**
     * DELETE (SPEC §6): trashes the block on every trashable mount holding it, except where it is
     * younger than the signature TTL (left in place, still a success).
     *
     * @throws KeepException 405 if trash is disabled; 404 if no mount has the block
     */
    public void trash(String hash) throws IOException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /**
     * A trash-list item (SPEC §6): trashes the block on {@code mountUuid} (or every trashable
     * mount when null/empty) only where its mtime equals {@code mtimeNanos} exactly and that
     * mtime is older than the signature TTL.
     *
     * @return how many mounts trashed it
     */
    public int trash(String hash, long mtimeNanos, String mountUuid) throws IOException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Restores a trashed block on every writable mount that has it in trash; 404 if none did. */
    public void untrash(String hash) throws IOException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Streams the index of every readable mount. */
    public void index(String prefix, IndexSink sink) throws IOException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Streams the index of one mount; 404 for an unknown UUID. */
    public void index(String mountUuid, String prefix, IndexSink sink) throws IOException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** The mount with this UUID, or null. */
    public Mount mount(String uuid) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Empties expired trash on every trashable mount, one after another. */
    public EmptyTrashResult emptyTrash() throws IOException {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Closes every volume. */
    @Override
    public void close() throws IOException {
        throw new UnsupportedOperationException("not yet implemented");
    }
}
