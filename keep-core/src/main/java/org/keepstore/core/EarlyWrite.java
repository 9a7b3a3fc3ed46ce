package org.keepstore.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

/**
 * A block written to its first mount while its body is still arriving (see
 * {@link Volume#startWrite}): a helper thread appends what has arrived, a little behind the
 * receiver, so receiving, hashing and writing overlap. The block becomes visible only through
 * {@link #commit}, which the engine calls once the MD5 matched and only if it still wants the
 * block on that mount; otherwise {@link #close} discards it.
 *
 * <p>Any failure while appending only means the early write is given up: the engine then
 * writes the whole block to that mount the usual way.
 */
final class EarlyWrite extends BufferFollower<Void> implements AutoCloseable {
    /** Bytes appended at once (a whole multiple of any direct I/O alignment). */
    static final int STEP = 4 << 20;

    private final Mount mount;
    private final Volume.PendingWrite pending;
    private boolean closed;

    private EarlyWrite(Mount mount, Volume.PendingWrite pending, ByteBuffer buffer, Executor executor) {
        super(buffer, STEP, true);
        this.mount = mount;
        this.pending = pending;
        start(executor);
    }

    /**
     * Starts an early write of the block that {@code buffer} will hold onto {@code mount}, or
     * returns null where the volume does not write incrementally or cannot start now.
     */
    static EarlyWrite start(Mount mount, String hash, ByteBuffer buffer, Executor executor) {
        Volume.PendingWrite pending;
        try {
            pending = mount.volume().startWrite(hash);
        } catch (IOException | RuntimeException e) {
            return null; // e.g. full: the usual write will say so
        }
        return pending == null ? null : new EarlyWrite(mount, pending, buffer, executor);
    }

    Mount mount() {
        return mount;
    }

    @Override
    protected void consume(ByteBuffer range) throws IOException {
        pending.append(range);
    }

    @Override
    protected Void result() {
        return null;
    }

    /**
     * Appends the rest of the first {@code length} bytes and commits them.
     *
     * @return false if appending had failed (nothing was committed, the partial copy is gone:
     *         write the block anew)
     * @throws IOException the commit's failure, as {@link Volume#write} would report it
     */
    boolean commit(int length) throws IOException {
        try {
            finish(length);
        } catch (ExecutionException e) {
            close(); // frees the space the partial copy took before the block is written anew
            return false;
        }
        pending.commit();
        return true;
    }

    /** Stops appending and discards what was written, unless committed. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cancel();
            pending.close();
        }
    }
}
