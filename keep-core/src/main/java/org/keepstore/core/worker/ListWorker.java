package org.keepstore.core.worker;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A work list that {@code keep-balance} replaces wholesale, worked off by a fixed number of
 * threads. Counts are exact: an item is either queued, in progress, or done.
 *
 * <p>Subclasses say how to process one item and call {@link #start()} at the end of their
 * constructor. A failing item is logged and the list moves on.
 */
abstract class ListWorker<T> implements WorkQueue<T>, AutoCloseable {

    /** How long {@link #close()} lets items in progress finish before interrupting them. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(10);

    private final Logger log = LoggerFactory.getLogger(getClass());
    private final String name;
    private final int concurrency;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Deque<T> queue = new ArrayDeque<>();
    private final List<Thread> threads = new ArrayList<>();
    private int inProgress;
    private boolean closed;

    ListWorker(String name, int concurrency) {
        if (concurrency < 1) {
            throw new IllegalArgumentException(name + " concurrency must be at least 1");
        }
        this.name = name;
        this.concurrency = concurrency;
    }

    /** Does the work for one item. Exceptions are logged by the caller. */
    abstract void process(T item) throws Exception;

    /** A short description of an item for log lines (no secrets). */
    abstract String describe(T item);

    /** Starts the worker threads. */
    final void start() {
        lock.lock();
        try {
            for (int i = 0; i < concurrency; i++) {
                Thread t = new Thread(this::run, name + "-" + (i + 1));
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void replace(List<T> items) {
        lock.lock();
        try {
            if (closed) {
                // Shutting down: the list would be dropped anyway.
                log.info("{}: shutting down, ignoring a new list of {} items", name, items.size());
                return;
            }
            int dropped = queue.size();
            queue.clear();
            queue.addAll(items);
            changed.signalAll();
            log.info("{}: new list of {} items replaces {} still queued ({} in progress)",
                    name, items.size(), dropped, inProgress);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int inProgress() {
        lock.lock();
        try {
            return inProgress;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until nothing is queued or in progress.
     *
     * @return false if that did not happen within {@code timeout}
     */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!queue.isEmpty() || inProgress > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (true) {
            T item;
            lock.lock();
            try {
                while (queue.isEmpty() && !closed) {
                    changed.awaitUninterruptibly();
                }
                if (closed) {
                    return;
                }
                item = queue.poll();
                inProgress++;
            } finally {
                lock.unlock();
            }
            try {
                process(item);
            } catch (InterruptedException e) {
                log.info("{}: interrupted while working on {}", name, describe(item));
                Thread.currentThread().interrupt();
            } catch (Exception | LinkageError e) {
                log.warn("{}: {} failed: {}", name, describe(item),
                        e.getMessage() == null ? e.toString() : e.getClass().getSimpleName() + ": " + e.getMessage());
            } finally {
                lock.lock();
                try {
                    inProgress--;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
            if (Thread.interrupted() && isClosed()) {
                return;
            }
        }
    }

    private boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops the queue and stops the threads: items in progress get a grace period to finish,
     * then are interrupted.
     */
    @Override
    public void close() {
        List<Thread> toStop;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            queue.clear();
            changed.signalAll();
            toStop = List.copyOf(threads);
        } finally {
            lock.unlock();
        }
        long deadline = System.nanoTime() + CLOSE_GRACE.toNanos();
        try {
            for (Thread t : toStop) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
            for (Thread t : toStop) {
                if (t.isAlive()) {
                    log.warn("{}: {} still busy after {}, interrupting it", name, t.getName(), CLOSE_GRACE);
                    t.interrupt();
                    t.join(1000);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
