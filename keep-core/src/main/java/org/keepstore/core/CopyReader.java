package org.keepstore.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one mount's copy of a block for {@link KeepStore#read} and {@link KeepStore#verify}
 * (SPEC §4): a large copy is read ahead by a {@link Prefetcher}, hashed on the calling thread
 * and sent by a {@link ChunkSender} as it is read, all but its last {@link #HELD_BACK} bytes,
 * which go out once the whole digest matched. Which mount to try, and what to do when a copy
 * fails, is the engine's business; this class only reports how the copy failed
 * ({@link UndeliveredCopy}, {@link SinkFailure}, or an error after delivery began).
 */
final class CopyReader {
    private static final Logger log = LoggerFactory.getLogger(CopyReader.class);

    /** Reads are hashed in chunks of this size; larger blocks are read ahead and sent ahead. */
    static final int READ_CHUNK = 1 << 20;
    /**
     * The end of a large block that is sent only after the digest matched: a response is
     * complete only with its last byte, so holding these back keeps unverified bytes from ever
     * completing one, while all the rest goes out as soon as it is read.
     */
    static final int HELD_BACK = 64 << 10;
    /**
     * What a large read hands to the sender at once. Fewer, larger hand-overs wake the sending
     * thread less often; measured here, 4 MiB gave one GET stream about 3% more than 1 MiB
     * (and 8 MiB nothing more).
     */
    static final int SEND_STEP = 4 << 20;

    private final BufferPool pool;
    /** Runs the read-ahead and sending helpers of large reads. */
    private final ExecutorService helpers;

    CopyReader(BufferPool pool, ExecutorService helpers) {
        this.pool = pool;
        this.helpers = helpers;
    }

    /** The buffers of one read, kept while its mounts are tried in turn. */
    Buffers newBuffers() {
        return new Buffers();
    }

    /**
     * Reads one mount's copy into a buffer from {@code buffers}, hashing it and delivering it to
     * {@code sink} (if not null). A copy of more than one chunk is read ahead by a
     * {@link Prefetcher}, whose progress also feeds a {@link ChunkSender}: reading, hashing and
     * sending overlap, and the hashing thread never waits for the sending. The last
     * {@link #HELD_BACK} bytes go out only after the whole digest matched, so a response never
     * completes with bytes that were not verified.
     *
     * @throws BlockNotFoundException the mount does not have the block
     * @throws UndeliveredCopy        the copy is corrupt or failed before anything was delivered
     * @throws SinkFailure            the sink failed (its exception is the cause)
     * @throws KeepException          after delivery began: {@link ChecksumException} or the
     *                                read error
     */
    long read(Mount m, String hash, long expectedSize, Buffers buffers, BlockSink sink)
            throws IOException, InterruptedException {
        StoredBlock block = openCopy(m, hash);
        if (block.size() > KeepStore.SMALL_BLOCK && !buffers.hasPoolBuffer()) {
            // Wait for a pool buffer without holding the copy open, so that a reader waiting for
            // memory never keeps a serialized volume busy.
            closeQuietly(block, m, hash);
            buffers.takePoolBuffer();
            block = openCopy(m, hash);
        }
        ByteBuffer buffer = buffers.forSize(block.size());
        // A copy whose size is not the one the locator gives is either corrupt or asked for with
        // a wrong size hint. Only its MD5 can tell which, so it is read and checked whole before
        // any of it goes out: a corrupt one is then skipped for the next mount, not sent in part.
        boolean sizeAsExpected = expectedSize < 0 || block.size() == expectedSize;
        boolean pipelined = block.size() > READ_CHUNK && sizeAsExpected;
        Delivery delivery = new Delivery(sink, buffer, block.size(), pipelined ? helpers : null);
        Prefetcher prefetcher = null;
        try {
            long storedSize = block.size();
            if (storedSize < 0 || storedSize > Locator.MAX_BLOCK_SIZE) {
                throw UndeliveredCopy.corrupt("stored size " + storedSize);
            }
            int size = (int) storedSize;
            MessageDigest md5 = KeepStore.md5();
            ReadableByteChannel in = StreamChannel.of(block.stream());
            if (pipelined) {
                // A helper reads ahead while this thread hashes (see Prefetcher), and what it read
                // goes on to the client from there.
                prefetcher = new Prefetcher(in, buffer, size, delivery::sendAhead, helpers);
            }
            int position = 0;
            while (position < size) {
                int length = Math.min(READ_CHUNK, size - position);
                boolean complete = prefetcher != null
                        ? prefetcher.awaitFilled(position + length)
                        : readFully(in, buffer, position, length);
                if (!complete) {
                    throw delivery.corruptCopy(hash, "copy is shorter than its stored size " + size);
                }
                md5.update(buffer.duplicate().limit(position + length).position(position));
                position += length;
            }
            if (prefetcher != null) {
                prefetcher.stop(); // it has read everything; now it hands nothing more over
            }
            // The whole copy is in the buffer: let the volume go before waiting for the client,
            // so that a slow client never keeps a serialized volume's only I/O slot. A small
            // copy is sent on this thread, so it lets go first; a large one hands its rest to
            // the sending helper, and lets go right after that (off the path of its last bytes).
            if (!pipelined) {
                closeQuietly(block, m, hash);
            }
            if (!HexFormat.of().formatHex(md5.digest()).equals(hash)) {
                throw delivery.corruptCopy(hash, "MD5 does not match");
            }
            delivery.sendRest();
            closeQuietly(block, m, hash);
            delivery.finish();
            return size;
        } catch (UndeliveredCopy | SinkFailure e) {
            if (prefetcher != null) {
                prefetcher.stop();
            }
            throw e;
        } catch (IOException | RuntimeException e) {
            if (prefetcher != null) {
                prefetcher.stop(); // before asking whether anything went out: it may still send
            }
            if (!delivery.started()) {
                if (e instanceof BlockNotFoundException notFound) {
                    throw notFound;
                }
                throw new UndeliveredCopy(e, false);
            }
            if (e instanceof ChecksumException checksum) {
                throw checksum;
            }
            log.warn("reading {} from mount {} (volume {}) failed after part of it was sent: {}",
                    hash, m.uuid(), m.deviceId(), e.toString());
            if (e instanceof BlockNotFoundException) {
                throw new KeepException(500, "block vanished while being read: " + hash, e);
            }
            throw KeepStore.asKeepException(e);
        } finally {
            if (prefetcher != null) {
                prefetcher.stop();
            }
            delivery.finishQuietly();
            closeQuietly(block, m, hash);
        }
    }

    private static StoredBlock openCopy(Mount m, String hash) throws IOException {
        try {
            return m.volume().open(hash);
        } catch (BlockNotFoundException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new UndeliveredCopy(e, false);
        }
    }

    /**
     * The buffer of one read: a pool buffer for a large block (taken once, kept while mounts are
     * tried), an array of its own for a small one (so small reads never queue for 64 MiB
     * buffers; their memory is bounded by the requests in flight).
     */
    final class Buffers implements AutoCloseable {
        private BufferPool.Lease lease;

        boolean hasPoolBuffer() {
            return lease != null;
        }

        void takePoolBuffer() throws InterruptedException {
            lease = pool.acquire();
        }

        /** A buffer for a copy of {@code size} bytes (a corrupt size gets any; it is rejected later). */
        ByteBuffer forSize(long size) throws InterruptedException {
            if (size >= 0 && size <= KeepStore.SMALL_BLOCK) {
                return ByteBuffer.allocate((int) size);
            }
            if (lease == null) {
                takePoolBuffer();
            }
            return lease.buffer();
        }

        @Override
        public void close() {
            if (lease != null) {
                lease.close();
            }
        }
    }

    /**
     * Hands a copy's bytes to a sink (or nowhere, for verify), remembering whether anything went
     * out. For a block of several chunks the sink is fed by a {@link ChunkSender} as the copy is
     * read ({@link #sendAhead}, on the reading helper's thread), up to all but the last
     * {@link #HELD_BACK} bytes; {@link #sendRest} sends those once the digest matched.
     */
    private static final class Delivery {
        private final BlockSink sink;
        private final ByteBuffer buffer;
        private final long size;
        private final ChunkSender sender;
        /** Bytes handed to the sink or the sender so far; guarded by this. */
        private int sent;
        /** Something was handed to the sink (begin included); guarded by this. */
        private boolean started;
        /** The sink's failure in {@link #sendAhead}, reported by {@link #finish}; guarded by this. */
        private SinkFailure aheadFailure;

        /** @param pipeline where the sending helper runs, or null to send on the calling thread */
        Delivery(BlockSink sink, ByteBuffer buffer, long size, ExecutorService pipeline) {
            this.sink = sink;
            this.buffer = buffer;
            this.size = size;
            this.sender = sink != null && pipeline != null ? new ChunkSender(sink, pipeline) : null;
        }

        synchronized boolean started() {
            return started;
        }

        /**
         * Sends what was read up to {@code filled}, except the held-back end; called by the
         * reading helper after each step. Never throws: a failure of the sink is reported by
         * {@link #finish}.
         */
        void sendAhead(int filled) {
            if (sender == null) {
                return;
            }
            synchronized (this) {
                int cap = (int) Math.max(0, size - HELD_BACK);
                int end = Math.min(filled, cap);
                // Whole steps, not every small read of a stream that reads little at a time.
                if (aheadFailure != null || end <= sent || (end < cap && end - sent < SEND_STEP)) {
                    return;
                }
                try {
                    send(end);
                } catch (SinkFailure e) {
                    aheadFailure = e;
                }
            }
        }

        /** Sends everything not sent yet (all of it when nothing was sent ahead). */
        synchronized void sendRest() throws SinkFailure {
            if (aheadFailure != null) {
                throw aheadFailure;
            }
            send((int) size);
            begin(); // for the empty block, which has no bytes
        }

        /** Waits until every byte reached the sink. */
        void finish() throws SinkFailure {
            synchronized (this) {
                if (aheadFailure != null) {
                    throw aheadFailure;
                }
            }
            if (sender != null) {
                try {
                    sender.finish();
                } catch (IOException | RuntimeException e) {
                    throw new SinkFailure(e);
                }
            }
        }

        /** After an error: waits until what was handed over reached the sink, ignoring its failures. */
        void finishQuietly() {
            if (sender != null) {
                sender.finishQuietly();
            }
        }

        /** Hands bytes {@code [sent, end)} to the sink, through the sender if there is one. */
        private void send(int end) throws SinkFailure {
            if (sink == null || end <= sent) {
                return;
            }
            begin();
            try {
                ByteBuffer chunk = buffer.duplicate().limit(end).position(sent);
                if (sender != null) {
                    sender.send(chunk);
                } else {
                    sink.write(chunk);
                }
                sent = end;
            } catch (IOException | RuntimeException e) {
                throw new SinkFailure(e);
            }
        }

        private void begin() throws SinkFailure {
            if (sink != null && !started) {
                started = true;
                try {
                    sink.begin(size);
                } catch (IOException | RuntimeException e) {
                    throw new SinkFailure(e);
                }
            }
        }

        /** The exception for a corrupt copy: fail over if nothing went out yet, else 502. */
        IOException corruptCopy(String hash, String detail) {
            if (!started()) {
                return UndeliveredCopy.corrupt(detail);
            }
            return new ChecksumException(hash);
        }
    }

    /** A copy that could not be served, before anything was delivered: the caller fails over. */
    static final class UndeliveredCopy extends IOException {
        final boolean corrupt;

        UndeliveredCopy(Throwable cause, boolean corrupt) {
            super(cause);
            this.corrupt = corrupt;
        }

        private UndeliveredCopy(String detail) {
            super(detail);
            this.corrupt = true;
        }

        static UndeliveredCopy corrupt(String detail) {
            return new UndeliveredCopy(detail);
        }
    }

    /** The sink failed (e.g. the client went away); its exception is passed on unchanged. */
    static final class SinkFailure extends IOException {
        SinkFailure(Throwable cause) {
            super(cause);
        }

        /** Returns the sink's IOException to be thrown, or throws its RuntimeException. */
        IOException unwrap() {
            Throwable c = getCause();
            if (c instanceof IOException io) {
                return io;
            }
            throw (RuntimeException) c;
        }
    }

    /** Reads exactly {@code length} bytes unless the channel ends first (then false). */
    private static boolean readFully(ReadableByteChannel in, ByteBuffer buffer, int offset, int length)
            throws IOException {
        ByteBuffer into = buffer.duplicate().limit(offset + length).position(offset);
        while (into.hasRemaining()) {
            if (in.read(into) < 0) {
                return false;
            }
        }
        return true;
    }

    private static void closeQuietly(StoredBlock block, Mount m, String hash) {
        try {
            block.close();
        } catch (IOException | RuntimeException e) {
            log.warn("closing {} on mount {} (volume {}) failed: {}", hash, m.uuid(), m.deviceId(), e.toString());
        }
    }

}
