package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Attn4jException;
import dev.attn4j.ports.ClosedException;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The engine's worker threads. {@link #forEach} hands out work items dynamically (an atomic counter), so
 * items of unequal cost — causal tiles — balance themselves; the calling thread works too.
 *
 * <p><b>Closing and interrupts.</b> A call waits for the helper tasks it queued. Closing the pool drops the
 * helpers that have not started ({@code shutdownNow}), so each dropped helper is cancelled (it counts down
 * its call's latch) and every running call is failed: it stops taking items, waits only for the items
 * already being worked on, and throws {@link ClosedException}. A caller interrupted while it waits fails its
 * call the same way (an {@link Attn4jException} saying so, the interrupt flag kept) and returns at once; its
 * helpers finish the item they hold and take no more. A call never waits for a helper that will not run.
 */
final class WorkerPool implements AutoCloseable {
    private final int threads;
    private final ExecutorService executor;
    private final Set<Call> running = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

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
     *
     * @throws ClosedException if the pool is or gets closed before every item ran
     * @throws Attn4jException if the calling thread is interrupted before every item ran
     */
    void forEach(int count, WorkerBody body) {
        if (count <= 0) {
            return;
        }
        if (closed) {
            throw closedError();
        }
        int helpers = executor == null ? 0 : Math.min(threads - 1, count - 1);
        Call call = new Call(count, body, helpers);
        running.add(call);
        try {
            if (closed) {
                // close() may have swept the running calls before this one was added.
                call.fail(closedError());
            }
            for (int h = 0; h < helpers; h++) {
                Helper helper = new Helper(call, h + 1);
                try {
                    executor.execute(helper);
                } catch (RejectedExecutionException e) {
                    // The pool closed between the check above and here: this helper will never run.
                    call.fail(closedError());
                    helper.cancel();
                }
            }
            call.drain(0);
            call.await();
        } finally {
            running.remove(call);
        }
        call.rethrow();
    }

    /** One {@code forEach}: its items, the failure that stops it, and the helpers it waits for. */
    private static final class Call {
        private final int count;
        private final WorkerBody body;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final CountDownLatch helpersDone;

        Call(int count, WorkerBody body, int helpers) {
            this.count = count;
            this.body = body;
            this.helpersDone = new CountDownLatch(helpers);
        }

        void fail(Throwable t) {
            failure.compareAndSet(null, t);
        }

        void drain(int worker) {
            int i;
            while (failure.get() == null && (i = next.getAndIncrement()) < count) {
                if (worker == 0 && Thread.currentThread().isInterrupted()) {
                    fail(interruptedError(null));
                    return;
                }
                try {
                    body.run(worker, i);
                } catch (Throwable t) {
                    fail(t);
                }
            }
        }

        void await() {
            try {
                helpersDone.await();
            } catch (InterruptedException e) {
                // Stop the helpers after their current item and leave now; the interrupt stays visible.
                Thread.currentThread().interrupt();
                fail(interruptedError(e));
            }
        }

        void rethrow() {
            Throwable t = failure.get();
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error er) throw er;
            if (t != null) throw new Attn4jException("a cpu worker failed: " + t, t);
        }
    }

    /** A helper task of one call: drains items as worker {@code worker}, then counts down once. */
    private static final class Helper implements Runnable {
        private final Call call;
        private final int worker;
        private final AtomicBoolean finished = new AtomicBoolean();

        Helper(Call call, int worker) {
            this.call = call;
            this.worker = worker;
        }

        @Override
        public void run() {
            if (finished.get()) {
                return;
            }
            try {
                call.drain(worker);
            } finally {
                finish();
            }
        }

        /** For a helper that will never run (dropped by a close, or rejected). */
        void cancel() {
            finish();
        }

        private void finish() {
            if (finished.compareAndSet(false, true)) {
                call.helpersDone.countDown();
            }
        }
    }

    private static ClosedException closedError() {
        return new ClosedException("the cpu backend was closed while a call was running");
    }

    private static Attn4jException interruptedError(InterruptedException cause) {
        return new Attn4jException("the cpu call was interrupted before its workers finished; it was abandoned", cause);
    }

    /**
     * Stops the workers. Calls in flight fail with {@link ClosedException} once the items already running
     * finish (never waiting for a dropped helper); later calls fail at once. Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        for (Call call : running) {
            call.fail(closedError());
        }
        if (executor != null) {
            List<Runnable> dropped = executor.shutdownNow();
            for (Runnable r : dropped) {
                if (r instanceof Helper h) {
                    h.cancel();
                }
            }
        }
    }
}
