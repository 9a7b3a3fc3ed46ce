package org.keepstore.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BufferPoolTest {

    @Test
    void buffersAreAllocatedLazilyAndReused() throws InterruptedException {
        BufferPool pool = new BufferPool(3, 1024);
        assertEquals(0, pool.bytesAllocated());
        BufferPool.Lease a = pool.acquire();
        ByteBuffer buffer = a.buffer();
        assertEquals(0, buffer.position());
        assertEquals(1024, buffer.limit());
        assertTrue(buffer.isDirect());
        assertEquals(0, buffer.alignmentOffset(0, BufferPool.ALIGNMENT), "buffers start page-aligned");
        assertEquals(1024, pool.bytesAllocated());
        assertEquals(1, pool.inUse());
        // Each view has its own position: moving one does not move the next.
        buffer.putLong(0, 0x1234_5678_9abc_def0L).position(100);
        assertEquals(0, a.buffer().position());
        a.close();
        assertThrows(IllegalStateException.class, a::buffer, "a returned lease gives no more views");
        assertEquals(0, pool.inUse());
        for (int i = 0; i < 10; i++) {
            try (BufferPool.Lease l = pool.acquire()) {
                assertEquals(0x1234_5678_9abc_def0L, l.buffer().getLong(0), "the same memory is lent again");
            }
        }
        assertEquals(1024, pool.bytesAllocated());
    }

    @Test
    void closeIsIdempotent() throws InterruptedException {
        BufferPool pool = new BufferPool(1, 16);
        BufferPool.Lease a = pool.acquire();
        a.close();
        a.close();
        assertEquals(0, pool.inUse());
        BufferPool.Lease b = pool.acquire();
        // A second close of the old lease must not free b's slot.
        a.close();
        assertEquals(1, pool.inUse());
        assertNull(pool.tryAcquire(Duration.ZERO));
        b.close();
    }

    @Test
    void tryAcquireTimesOutWhenExhausted() throws InterruptedException {
        BufferPool pool = new BufferPool(2, 16);
        BufferPool.Lease a = pool.acquire();
        BufferPool.Lease b = pool.tryAcquire(Duration.ofMillis(1));
        assertNotNull(b);
        assertNull(pool.tryAcquire(Duration.ofMillis(20)));
        a.close();
        try (BufferPool.Lease c = pool.tryAcquire(Duration.ofMillis(20))) {
            assertNotNull(c);
        }
        b.close();
        assertEquals(32, pool.bytesAllocated());
    }

    @Test
    void waitingCanBeInterrupted() throws Exception {
        BufferPool pool = new BufferPool(1, 16);
        BufferPool.Lease held = pool.acquire();
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger outcome = new AtomicInteger();
        Thread waiter = new Thread(() -> {
            started.countDown();
            try {
                pool.acquire().close();
                outcome.set(1);
            } catch (InterruptedException e) {
                outcome.set(2);
            }
        });
        waiter.start();
        started.await();
        waiter.interrupt();
        waiter.join(10_000);
        assertEquals(2, outcome.get());
        assertEquals(1, pool.inUse(), "the interrupted waiter must not have taken or leaked a slot");
        held.close();
        assertEquals(0, pool.inUse());
    }

    @Test
    void boundHoldsUnderConcurrency() throws Exception {
        int max = 3;
        BufferPool pool = new BufferPool(max, 64);
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger highest = new AtomicInteger();
        // Each buffer is tagged with a number the first time it is lent, to count distinct ones.
        AtomicInteger tags = new AtomicInteger();
        Set<Integer> seen = ConcurrentHashMap.newKeySet();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                done.add(threads.submit(() -> {
                    for (int i = 0; i < 500; i++) {
                        try (BufferPool.Lease l = pool.acquire()) {
                            int now = holding.incrementAndGet();
                            highest.accumulateAndGet(now, Math::max);
                            ByteBuffer b = l.buffer();
                            if (b.getInt(0) == 0) {
                                b.putInt(0, tags.incrementAndGet());
                            }
                            seen.add(b.getInt(0));
                            Thread.yield();
                            holding.decrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        assertTrue(highest.get() <= max, "at most " + max + " leases at once, saw " + highest.get());
        assertTrue(seen.size() <= max, "at most " + max + " arrays ever allocated, saw " + seen.size());
        assertEquals(seen.size() * 64L, pool.bytesAllocated());
        assertEquals(0, pool.inUse());
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new BufferPool(0, 16));
        assertEquals(Locator.MAX_BLOCK_SIZE, new BufferPool(1).bufferSize());
        assertEquals(1, new BufferPool(1).maxBuffers());
    }
}
