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

    /** Runs {@code body(i)} for every {@code i} in {@code [0, count)} on all workers; rethrows the first failure. */
    void forEach(int count, IntConsumer body) {
        if (count <= 0) {
            return;
        }
        int helpers = executor == null ? 0 : Math.min(threads - 1, count - 1);
        if (helpers == 0) {
            for (int i = 0; i < count; i++) {
                body.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(helpers);
        Runnable worker = () -> drain(count, body, next, failure);
        for (int h = 0; h < helpers; h++) {
            executor.execute(() -> {
                try {
                    worker.run();
                } finally {
                    done.countDown();
                }
            });
        }
        worker.run();
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

    private static void drain(int count, IntConsumer body, AtomicInteger next, AtomicReference<Throwable> failure) {
        int i;
        while (failure.get() == null && (i = next.getAndIncrement()) < count) {
            try {
                body.accept(i);
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
