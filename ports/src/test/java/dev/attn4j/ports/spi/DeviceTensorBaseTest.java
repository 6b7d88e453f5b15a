package dev.attn4j.ports.spi;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceTensorBaseTest {

    /** A tensor whose handle is freed by counting. */
    private static final class Counted extends DeviceTensorBase<float[]> {
        final AtomicInteger frees = new AtomicInteger();

        Counted() {
            super("test", Shape.of(2, 3), DType.F32, new float[6]);
        }

        @Override
        public void close() {
            if (detach() != null) {
                frees.incrementAndGet();
            }
        }

        float[] data() {
            return handle();
        }
    }

    @Test
    void closingFreesOnceAndLeavesNoHandle() {
        Counted t = new Counted();
        float[] data = t.data();
        assertFalse(t.isClosed());
        t.close();
        t.close();
        assertTrue(t.isClosed());
        assertEquals(1, t.frees.get());
        // Issue 13 item 5: a specific attn4j exception, not a bare IllegalStateException
        dev.attn4j.ports.ClosedException e = assertThrows(dev.attn4j.ports.ClosedException.class, t::data);
        assertEquals("test tensor [2, 3] F32 was closed while a call was using it", e.getMessage());
        assertEquals(6, data.length);
        assertEquals("Counted[2, 3] F32 (closed)", t.toString());
    }

    @Test
    void concurrentClosersFreeExactlyOnce() throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 200; round++) {
                Counted t = new Counted();
                CountDownLatch start = new CountDownLatch(1);
                CountDownLatch done = new CountDownLatch(4);
                for (int i = 0; i < 4; i++) {
                    pool.execute(() -> {
                        try {
                            start.await();
                            t.close();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        } finally {
                            done.countDown();
                        }
                    });
                }
                start.countDown();
                assertTrue(done.await(5, TimeUnit.SECONDS));
                assertEquals(1, t.frees.get(), "round " + round);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aTensorNeedsItsStorage() {
        assertThrows(IllegalArgumentException.class, () -> new DeviceTensorBase<Object>("x", Shape.of(1), DType.F32, null) {
            @Override
            public void close() {
            }
        });
        Counted t = new Counted();
        assertSame(t.data(), t.data());
    }
}
