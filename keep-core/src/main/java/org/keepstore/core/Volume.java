package org.keepstore.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.LongPredicate;

/**
 * The SPI every storage backend implements (SPEC §8). A volume stores blocks by hash and knows
 * nothing of other volumes, of HTTP, of signatures or of storage classes: the engine
 * ({@link KeepStore}) decides where to read and write and verifies every byte; the volume only
 * keeps bytes and their modification times durably.
 *
 * <p>Implementations must be safe for concurrent use. Missing blocks are reported with
 * {@link BlockNotFoundException}; a backend that cannot be reached or times out throws a
 * {@link KeepException} with status 503; other failures are plain {@link IOException}s (500).
 * Hashes passed in are always valid 32-hex strings.
 */
public interface Volume extends AutoCloseable {

    /**
     * A stable identifier of the underlying storage, shared by every server that sees the same
     * storage (e.g. the same bucket), so {@code keep-balance} can tell when two mounts are one.
     */
    String deviceId();

    /**
     * Opens the stored copy of a block for reading. The bytes are not verified here.
     *
     * @throws BlockNotFoundException if the block is absent or only in trash
     */
    StoredBlock open(String hash) throws IOException;

    /** {@link #readIfAtHand}: the copy cannot be read without waiting, or not this way. */
    int NOT_AT_HAND = -1;
    /** {@link #readIfAtHand}: the block is known at once to be absent here. */
    int ABSENT = -2;

    /**
     * Optionally reads a small block only if that needs no waiting at all: no disk, no network,
     * no lock that another request may hold (a directory volume answers from the page cache).
     * For a server's event-loop threads, which must never block; anything this cannot do at
     * once is left to {@link #open}. The bytes are not verified here.
     *
     * @param into receives the copy at its position; the copy must fit in its remaining space
     * @return the copy's length; {@link #ABSENT}; or {@link #NOT_AT_HAND} when the copy is not
     *         in memory, is larger than {@code into} has room for, or anything at all is unusual
     *         (the default): the caller then uses {@link #open}, which reports errors properly
     */
    default int readIfAtHand(String hash, ByteBuffer into) {
        return NOT_AT_HAND;
    }

    /**
     * Stores a block atomically: readers (and a crash at any moment) see either the previous
     * state or the whole new block, never a part of it. Replaces an existing copy. Sets the
     * block's mtime to the context clock's now. Returns only once the data is durable.
     *
     * @param data the block, from {@code position()} to {@code limit()}; not modified, and its
     *             position may be changed only on a duplicate
     * @throws VolumeFullException when there is no room
     */
    void write(String hash, ByteBuffer data) throws IOException;

    /**
     * Optionally starts writing a block whose bytes will arrive in order, so the volume can
     * store them while the rest is still being received and verified. Nothing appears under
     * {@code hash} (not in {@link #open}, not in {@link #index}) until
     * {@link PendingWrite#commit}; a pending write that is closed without a commit, or cut
     * short by a crash, leaves nothing behind that the volume would list or serve.
     *
     * @return the pending write, or null if this volume does not write incrementally (the
     *         default): the engine then calls {@link #write} with the whole block
     */
    default PendingWrite startWrite(String hash) throws IOException {
        return null;
    }

    /** A block being written piece by piece; see {@link #startWrite}. Used by one thread at a time. */
    interface PendingWrite extends AutoCloseable {
        /**
         * Stores the next bytes of the block: {@code data} from position to limit (not modified).
         * Every piece but the last is a multiple of 1 MiB long.
         */
        void append(ByteBuffer data) throws IOException;

        /**
         * Makes the appended bytes the block under its hash, with the guarantees of
         * {@link Volume#write}: atomic, durable when this returns, mtime now.
         *
         * @throws VolumeFullException when there is no room
         */
        void commit() throws IOException;

        /** Discards the bytes unless committed. Idempotent; never throws. */
        @Override
        void close();
    }

    /**
     * Sets the block's mtime to now.
     *
     * @throws BlockNotFoundException if the block is absent (trashed counts as absent)
     */
    void touch(String hash) throws IOException;

    /**
     * The block's mtime in nanoseconds since the Unix epoch, as precise as the backend keeps it.
     *
     * @throws BlockNotFoundException if the block is absent (trashed counts as absent)
     */
    long mtimeNanos(String hash) throws IOException;

    /**
     * Moves the block to trash with deadline now + trash lifetime, after which
     * {@link #emptyTrash()} deletes it; with a zero trash lifetime the block is deleted at once
     * (or, where the driver considers that unsafe, refused with a {@link KeepException}).
     * The engine has already checked the signature-TTL rule; a driver with its own race
     * windows may refuse on top of that.
     *
     * @throws BlockNotFoundException if the block is absent
     */
    void trash(String hash) throws IOException;

    /**
     * Trashes the block as {@link #trash} does, but only if {@code mtimeAccepted} accepts its
     * current mtime (nanoseconds). This is how the engine trashes: the check and the trashing
     * must not be split by a {@link #touch} (a PUT of the same block), or an acknowledged block
     * could be trashed right after its PUT.
     *
     * <p>The engine already serializes its own touch and trash calls per block. This default
     * relies on that alone; a driver whose storage other processes may touch at the same time
     * overrides it to make the check and the trashing atomic against them as well (the
     * directory volume locks the block file, as the reference keepstore does; the Azure volume
     * makes its update conditional on the ETag of the properties it checked).
     *
     * @return true if the block was trashed, false if the check refused its mtime
     * @throws BlockNotFoundException if the block is absent
     */
    default boolean trashIfMtime(String hash, LongPredicate mtimeAccepted) throws IOException {
        if (!mtimeAccepted.test(mtimeNanos(hash))) {
            return false;
        }
        trash(hash);
        return true;
    }

    /**
     * Restores a trashed block (the most recently trashed copy, if there are several) and sets
     * its mtime to now.
     *
     * @throws BlockNotFoundException if there is no trashed copy
     */
    void untrash(String hash) throws IOException;

    /**
     * Permanently deletes trashed blocks whose deadline has passed. Touches nothing else.
     */
    EmptyTrashResult emptyTrash() throws IOException;

    /**
     * Streams every non-trashed block whose hash starts with {@code prefix} (may be empty) to
     * {@code sink}, in no particular order. Never lists partial writes or temporary files.
     * Throws if listing fails midway, so the caller can mark the index incomplete.
     */
    void index(String prefix, IndexSink sink) throws IOException;

    /** Free/used figures for {@code /status.json}. Must not throw for a reachable volume. */
    VolumeStatus status();

    /** Releases clients, threads and file handles. */
    @Override
    default void close() throws IOException {
    }
}
