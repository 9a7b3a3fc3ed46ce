package org.keepstore.core.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.time.Duration;

import org.keepstore.core.EmptyTrashResult;
import org.keepstore.core.KeepStore;
import org.keepstore.core.Mount;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every trash-check interval, permanently deletes expired trash on every trashable mount
 * (SPEC §6), several mounts at a time (at most {@code BlobDeleteConcurrency}), and logs how much
 * was deleted and how much trash remains.
 *
 * <p>Whether trash has expired is decided by each volume against its context clock, so a test
 * can advance that clock and call {@link #emptyNow()} instead of waiting for the schedule.
 * When the store has trashing disabled ({@code -never-delete}) nothing is deleted: blocks already
 * in trash stay there and can still be restored with untrash.
 */
public final class TrashEmptier implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TrashEmptier.class);

    private final KeepStore store;
    private final Duration interval;
    private final int concurrency;
    private final ScheduledExecutorService scheduler;
    private final boolean ownsScheduler;
    private ScheduledFuture<?> schedule;

    /**
     * @param store       the engine whose mounts to empty
     * @param interval    time between passes; zero or negative = never run on a schedule
     * @param concurrency how many mounts are emptied at once (at least 1)
     * @param scheduler   runs the passes; null = a single daemon thread owned (and stopped) by
     *                    this emptier
     */
    public TrashEmptier(KeepStore store, Duration interval, int concurrency, ScheduledExecutorService scheduler) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("BlobDeleteConcurrency must be at least 1");
        }
        this.store = Objects.requireNonNull(store, "store");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.concurrency = concurrency;
        this.ownsScheduler = scheduler == null;
        this.scheduler = scheduler != null ? scheduler : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "trash-emptier");
            t.setDaemon(true);
            return t;
        });
    }

    /** Schedules a pass every interval, the first one interval from now. Does nothing if the interval is not positive. */
    public synchronized void start() {
        if (schedule != null) {
            return;
        }
        if (interval.isZero() || interval.isNegative()) {
            log.info("trash emptying disabled (trash check interval {})", interval);
            return;
        }
        long millis = Math.max(1, interval.toMillis());
        schedule = scheduler.scheduleWithFixedDelay(this::scheduledPass, millis, millis, TimeUnit.MILLISECONDS);
        log.info("emptying expired trash every {}", interval);
    }

    private void scheduledPass() {
        try {
            emptyNow();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // Keep the schedule alive: the next pass may well succeed.
            log.warn("emptying trash failed: {}", e.toString());
        }
    }

    /**
     * Runs one pass now, in the calling thread (and up to {@code concurrency} helpers).
     *
     * @return the totals over all trashable mounts (mounts that failed count as nothing)
     */
    public EmptyTrashResult emptyNow() throws InterruptedException {
        if (!store.options().trashEnabled()) {
            log.debug("not emptying trash: trashing is disabled (never-delete)");
            return EmptyTrashResult.NONE;
        }
        List<Mount> trashable = new ArrayList<>();
        for (Mount m : store.mounts()) {
            if (m.allowTrash()) {
                trashable.add(m);
            }
        }
        if (trashable.isEmpty()) {
            return EmptyTrashResult.NONE;
        }
        ExecutorService workers = Executors.newFixedThreadPool(Math.min(concurrency, trashable.size()), r -> {
            Thread t = new Thread(r, "trash-emptier-mount");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<EmptyTrashResult>> passes = new ArrayList<>();
            for (Mount m : trashable) {
                passes.add(workers.submit(() -> emptyMount(m)));
            }
            EmptyTrashResult total = EmptyTrashResult.NONE;
            for (Future<EmptyTrashResult> pass : passes) {
                try {
                    total = total.plus(pass.get());
                } catch (ExecutionException e) {
                    // emptyMount logs its own failures; this is only a safety net.
                    log.warn("emptying trash failed: {}", e.getCause().toString());
                }
            }
            log.info("trash emptied: deleted {} blocks ({} bytes); {} blocks ({} bytes) remain in trash",
                    total.deletedBlocks(), total.deletedBytes(), total.remainingBlocks(), total.remainingBytes());
            return total;
        } finally {
            workers.shutdownNow();
        }
    }

    private static EmptyTrashResult emptyMount(Mount mount) {
        try {
            EmptyTrashResult r = mount.volume().emptyTrash();
            log.info("mount {}: trash emptied: deleted {} blocks ({} bytes); {} blocks ({} bytes) remain",
                    mount.uuid(), r.deletedBlocks(), r.deletedBytes(), r.remainingBlocks(), r.remainingBytes());
            return r;
        } catch (Exception e) {
            log.warn("mount {}: emptying trash failed: {}", mount.uuid(), e.toString());
            return EmptyTrashResult.NONE;
        }
    }

    /** Stops the schedule (a pass in progress finishes) and the scheduler this emptier owns. */
    @Override
    public synchronized void close() {
        if (schedule != null) {
            schedule.cancel(false);
        }
        if (ownsScheduler) {
            scheduler.shutdown();
            try {
                if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
                    scheduler.shutdownNow();
                }
            } catch (InterruptedException e) {
                scheduler.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }
}
