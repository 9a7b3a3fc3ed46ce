package org.keepstore.core;

import java.io.IOException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per block hash, held by the engine around every step that decides on or changes a
 * block's copies: storing (check existing copies, touch, write), touching, trashing and
 * untrashing.
 *
 * <p>Why: trashing checks a copy's mtime and then trashes it. A PUT of the same block that
 * touches the copy in between is acknowledged, yet its block would be trashed (or, with trash
 * lifetime 0, deleted) right after: a client would hold a fresh signature for a block that is
 * gone. Under this lock the trash sees either the old mtime and trashes before the PUT looks
 * (the PUT then writes a new copy), or the touched mtime and leaves the block alone.
 *
 * <p>The locks live in this process: two servers sharing one directory volume are not
 * serialized against each other (the S3 and Azure volumes guard against that race on their
 * own). Entries exist only while a hash is in use, so memory stays bounded by the requests in
 * flight; the lock is reentrant.
 */
final class BlockLocks {

    /** A step run under a block's lock. */
    @FunctionalInterface
    interface Step<T> {
        T run() throws IOException;
    }

    private static final class Entry {
        final ReentrantLock lock = new ReentrantLock();
        /** Threads holding or waiting for the lock; changed only inside the map's compute. */
        int users;
    }

    private final ConcurrentHashMap<String, Entry> inUse = new ConcurrentHashMap<>();

    /** Runs {@code step} holding the lock of {@code hash}, waiting for it if another thread has it. */
    <T> T holding(String hash, Step<T> step) throws IOException {
        Entry entry = inUse.compute(hash, (k, e) -> {
            Entry held = e == null ? new Entry() : e;
            held.users++;
            return held;
        });
        entry.lock.lock();
        try {
            return step.run();
        } finally {
            entry.lock.unlock();
            inUse.computeIfPresent(hash, (k, e) -> --e.users == 0 ? null : e);
        }
    }

    /** Hashes with a lock held or waited for; for tests. */
    int inUse() {
        return inUse.size();
    }
}
