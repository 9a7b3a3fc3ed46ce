package org.keepstore.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

import org.keepstore.core.BlockSink;
import org.keepstore.core.KeepStore;

/** Reads a block through the engine into an array, for tests that compare what comes back. */
public final class ReadBack {
    private ReadBack() {
    }

    /** The verified bytes {@link KeepStore#read} delivers for {@code hash}. */
    public static byte[] block(KeepStore store, String hash) throws IOException, InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        store.read(hash, into(out));
        return out.toByteArray();
    }

    /** A sink that appends every chunk it is given to {@code out}. */
    public static BlockSink into(ByteArrayOutputStream out) {
        return new BlockSink() {
            @Override
            public void begin(long size) {
            }

            @Override
            public void write(ByteBuffer chunk) {
                byte[] bytes = new byte[chunk.remaining()];
                chunk.get(bytes);
                out.write(bytes, 0, bytes.length);
            }
        };
    }
}
