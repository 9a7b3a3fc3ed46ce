package org.keepstore.core.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.keepstore.core.EmptyTrashResult;
import org.keepstore.core.IndexSink;
import org.keepstore.core.StoredBlock;
import org.keepstore.core.Volume;
import org.keepstore.core.VolumeStatus;

/**
 * A volume that passes every call to another one: tests subclass it to count calls or inject
 * failures in one method and keep the rest real.
 *
 * <p>{@link #trashIfMtime} is deliberately not forwarded: its default calls this volume's
 * {@link #mtimeNanos} and {@link #trash}, so a subclass that overrides those sees the engine's
 * trashing too.
 */
public class ForwardingVolume implements Volume {
    protected final Volume inner;

    public ForwardingVolume(Volume inner) {
        this.inner = inner;
    }

    @Override
    public String deviceId() {
        return inner.deviceId();
    }

    @Override
    public StoredBlock open(String hash) throws IOException {
        return inner.open(hash);
    }

    @Override
    public int readIfAtHand(String hash, ByteBuffer into) {
        return inner.readIfAtHand(hash, into);
    }

    @Override
    public void write(String hash, ByteBuffer data) throws IOException {
        inner.write(hash, data);
    }

    @Override
    public PendingWrite startWrite(String hash) throws IOException {
        return inner.startWrite(hash);
    }

    @Override
    public void touch(String hash) throws IOException {
        inner.touch(hash);
    }

    @Override
    public long mtimeNanos(String hash) throws IOException {
        return inner.mtimeNanos(hash);
    }

    @Override
    public void trash(String hash) throws IOException {
        inner.trash(hash);
    }

    @Override
    public void untrash(String hash) throws IOException {
        inner.untrash(hash);
    }

    @Override
    public EmptyTrashResult emptyTrash() throws IOException {
        return inner.emptyTrash();
    }

    @Override
    public void index(String prefix, IndexSink sink) throws IOException {
        inner.index(prefix, sink);
    }

    @Override
    public VolumeStatus status() {
        return inner.status();
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
