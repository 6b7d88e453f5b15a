package dev.attn4j.backend.cpu;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WorkerPoolTest {

    @ParameterizedTest(name = "n = {0}")
    @ValueSource(ints = {1, WorkerPool.RANGE - 1, WorkerPool.RANGE, WorkerPool.RANGE + 1, Integer.MAX_VALUE - 5,
            Integer.MAX_VALUE})
    void rangesTileTheElementsUpToTheLargestArray(int n) {
        // The last range of a huge tensor must end at n, not wrap past Integer.MAX_VALUE.
        int count = WorkerPool.rangeCount(n);
        AtomicLongArray ends = new AtomicLongArray(count);
        AtomicLong covered = new AtomicLong();
        try (WorkerPool pool = new WorkerPool(3)) {
            pool.forRanges(n, (from, to) -> {
                ends.set(from / WorkerPool.RANGE, to);
                covered.addAndGet((long) to - from);
            });
        }
        assertEquals(n, covered.get(), "every element once");
        for (int k = 0; k < count; k++) {
            long end = Math.min(n, (k + 1L) * WorkerPool.RANGE);
            assertEquals(end, ends.get(k), "range " + k);
        }
    }
}
