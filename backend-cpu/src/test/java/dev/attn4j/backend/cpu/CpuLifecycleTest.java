package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Attn4jException;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.ClosedException;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 13 items 5 and 6: closing the engine while calls run must fail them with a clear error, never leave
 * them waiting for helper tasks the pool dropped; an interrupted call frees the outputs it made.
 */
class CpuLifecycleTest {

    /** Runs {@code count} items, each sleeping a little, so a close lands while helpers are queued. */
    private static void slowForEach(WorkerPool pool, int count, AtomicInteger ran) {
        pool.forEach(count, i -> {
            ran.incrementAndGet();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void closingThePoolFailsEveryCallInFlightAndHangsNone() throws Exception {
        for (int round = 0; round < 20; round++) {
            WorkerPool pool = new WorkerPool(4);
            ExecutorService callers = Executors.newFixedThreadPool(6);
            AtomicInteger ran = new AtomicInteger();
            CountDownLatch started = new CountDownLatch(6);
            List<Future<?>> calls = new ArrayList<>();
            for (int c = 0; c < 6; c++) {
                calls.add(callers.submit(() -> {
                    started.countDown();
                    slowForEach(pool, 200, ran);
                    return null;
                }));
            }
            started.await();
            Thread.sleep(round % 5 * 3);
            pool.close();
            for (Future<?> call : calls) {
                try {
                    call.get(10, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    fail("round " + round + ": a call still waits 10 s after the pool closed (helpers were dropped)");
                } catch (java.util.concurrent.ExecutionException e) {
                    assertInstanceOf(ClosedException.class, e.getCause(), "round " + round);
                    assertEquals("the cpu backend was closed while a call was running", e.getCause().getMessage());
                }
            }
            callers.shutdownNow();
            assertThrows(ClosedException.class, () -> pool.forEach(3, i -> { }), "a closed pool runs nothing");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void closingTheBackendDuringAttentionFailsTheCallsAndLeavesNothingOpen() throws Exception {
        for (int round = 0; round < 5; round++) {
            CpuEngine engine = new CpuEngine(3);
            Backend backend = Backend.of(engine);
            DeviceTensor q = backend.tensors().upload(new float[1 * 512 * 4 * 64], Shape.of(1, 512, 4, 64), DType.F32);
            DeviceTensor kv = backend.tensors().upload(new float[1 * 512 * 4 * 64], Shape.of(1, 512, 4, 64), DType.F32);
            ExecutorService callers = Executors.newFixedThreadPool(4);
            List<Future<?>> calls = new ArrayList<>();
            CountDownLatch started = new CountDownLatch(4);
            for (int c = 0; c < 4; c++) {
                calls.add(callers.submit(() -> {
                    started.countDown();
                    for (int n = 0; n < 50; n++) {
                        try (AttentionResult r = backend.attention().forward(new AttentionRequest(q, kv, kv,
                                AttentionOptions.builder().causal(true).build()))) {
                            assertEquals(512 * 4 * 64, backend.tensors().download(r.o()).length);
                        }
                    }
                    return null;
                }));
            }
            started.await();
            Thread.sleep(20 + round * 10);
            backend.close();
            for (Future<?> call : calls) {
                try {
                    call.get(20, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    fail("a call still runs 20 s after the backend closed");
                } catch (java.util.concurrent.ExecutionException e) {
                    assertInstanceOf(Attn4jException.class, e.getCause(), () -> "round: only attn4j errors, got " + e.getCause());
                }
            }
            callers.shutdownNow();
            assertEquals(0, engine.liveTensors(), "nothing registered after close");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void anInterruptedForwardClosesItsOutputs() throws Exception {
        CpuEngine engine = new CpuEngine(2);
        try (Backend backend = Backend.of(engine)) {
            // Large enough (about 3·10^10 flops) that an interrupt 10 ms in lands while the workers run.
            DeviceTensor q = backend.tensors().upload(new float[4096 * 8 * 64], Shape.of(1, 4096, 8, 64), DType.F32);
            DeviceTensor kv = backend.tensors().upload(new float[4096 * 8 * 64], Shape.of(1, 4096, 8, 64), DType.F32);
            int inputs = engine.liveTensors();
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicReference<AttentionResult> returned = new AtomicReference<>();
            Runnable call = () -> {
                try {
                    returned.set(backend.attention().forward(new AttentionRequest(q, kv, kv, null)));
                } catch (Throwable t) {
                    thrown.set(t);
                }
            };
            int interrupted = 0;
            for (int attempt = 0; attempt < 20 && thrown.get() == null; attempt++) {
                Thread caller = new Thread(call);
                caller.start();
                Thread.sleep(10);
                caller.interrupt();
                caller.join(20_000);
                assertTrue(!caller.isAlive(), "the interrupted call returned");
                if (returned.get() != null) {
                    returned.getAndSet(null).close(); // finished before the interrupt: try again
                } else {
                    interrupted++;
                }
            }
            assertTrue(interrupted > 0, "no call was interrupted in time");
            Throwable t = thrown.get();
            assertInstanceOf(Attn4jException.class, t, () -> "got " + t);
            assertTrue(t.getMessage().contains("interrupted"), t.getMessage());
            assertEquals(inputs, engine.liveTensors(), "o and lse of the interrupted call were freed");
        }
    }
}
