package dev.attn4j.backend.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The engine's worker threads. {@link #forEach} hands out work items dynamically (an atomic counter), so
 * items of unequal cost — causal tiles — balance themselves; the calling thread works too.
 */
final class WorkerPool implements AutoCloseable {
    private final int threads;
    private final ExecutorService executor;

    WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("cpu backend option 'threads': expected >= 1, got " + threads);
        }
        this.threads = threads;
        AtomicInteger n = new AtomicInteger();
        this.executor = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "attn4j-cpu-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    int threads() {
        return threads;
    }

    /**
     * Elements per work item of the element-wise loops ({@link #forRanges}): 256 KiB of floats, enough to
     * amortise handing an item to a worker, few enough per call to balance two or more workers. A fixed size,
     * never derived from the thread count, so per-range partial sums combined in range order give the same bits
     * whatever the number of workers.
     */
    static final int RANGE = 1 << 16;

    /** A body over a range of elements {@code [from, to)}. */
    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }

    /** The number of {@link #RANGE}-sized ranges {@code n} elements split into. */
    static int rangeCount(long n) {
        return Math.toIntExact(Math.ceilDiv(n, (long) RANGE));
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into consecutive ranges of {@link #RANGE} elements (the last
     * shorter), on all workers; one range (small {@code n}) runs on the calling thread alone.
     */
    void forRanges(int n, RangeBody body) {
        forEach(rangeCount(n), k -> {
            int from = k * RANGE;
            // from + RANGE may pass Integer.MAX_VALUE on the last range of a huge tensor: add the smaller length
            body.run(from, from + Math.min(RANGE, n - from));
        });
    }

    /** A work item body that also learns which worker runs it, to index per-worker scratch memory. */
    @FunctionalInterface
    interface WorkerBody {
        void run(int worker, int item);
    }

    /** Runs {@code body(i)} for every {@code i} in {@code [0, count)} on all workers; rethrows the first failure. */
    void forEach(int count, IntConsumer body) {
        forEach(count, (worker, item) -> body.accept(item));
    }

    /**
     * Runs {@code body(worker, i)} for every {@code i} in {@code [0, count)}; {@code worker} is in
     * {@code [0, threads())} and no two concurrent calls of one {@code forEach} share a worker index.
     */
    void forEach(int count, WorkerBody body) {
        if (count <= 0) {
            return;
        }
        int helpers = executor == null ? 0 : Math.min(threads - 1, count - 1);
        if (helpers == 0) {
            for (int i = 0; i < count; i++) {
                body.run(0, i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(helpers);
        for (int h = 0; h < helpers; h++) {
            int worker = h + 1;
            executor.execute(() -> {
                try {
                    drain(worker, count, body, next, failure);
                } finally {
                    done.countDown();
                }
            });
        }
        drain(0, count, body, next, failure);
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for cpu workers", e);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error er) throw er;
    }

    private static void drain(int worker, int count, WorkerBody body, AtomicInteger next,
                              AtomicReference<Throwable> failure) {
        int i;
        while (failure.get() == null && (i = next.getAndIncrement()) < count) {
            try {
                body.run(worker, i);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
