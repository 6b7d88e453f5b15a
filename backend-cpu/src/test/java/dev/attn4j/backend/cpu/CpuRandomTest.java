package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CPU random port: UniformRequest's counter mapping, its value formula, views and thread counts. */
class CpuRandomTest {

    @Test
    void firstFourElementsAreRandom123sKnownAnswer() {
        // seed 0, offset 0: elements 0..3 read block 0, Random123's philox4x32-10 answer for zero counter and key.
        int[] words = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
        try (Backend b = Backend.of(new CpuEngine(1))) {
            DeviceTensor t = b.tensors().zeros(Shape.of(4), DType.F32);
            b.random().uniform(new UniformRequest(t, -2f, 3f, 0L, 0L));
            float[] got = b.tensors().download(t);
            for (int i = 0; i < 4; i++) {
                float u = (words[i] >>> 8) / (float) (1 << 24);
                assertEquals(Math.fma(u, 5f, -2f), got[i], 0f, "element " + i);
            }
        }
    }

    /** Element n: word n & 3 of the block for counter (n >>> 2, offset) under key seed. */
    private static float expected(long seed, long offset, long n, float low, float high) {
        int[] w = new int[4];
        Philox.round(w, (int) (n >>> 2), (int) (n >>> 34), (int) offset, (int) (offset >>> 32), (int) seed,
                (int) (seed >>> 32));
        float u = (w[(int) (n & 3)] >>> 8) * 0x1p-24f;
        return Math.fma(u, high - low, low);
    }

    @Test
    void everyElementFollowsTheCounterMappingOnAViewWhateverTheThreads() {
        long seed = 0x0123_4567_89AB_CDEFL;
        long offset = -3L;   // all 64 bits of the offset are used
        int n = 2 * WorkerPool.RANGE + 7;   // a piece boundary, and a tail not a multiple of 4
        float low = -0.25f;
        float high = 0.75f;
        float[] first = null;
        for (int threads : new int[] {1, 2, 3}) {
            try (Backend b = Backend.of(new CpuEngine(threads))) {
                DeviceTensor v = Views.floats(b, new float[n], Shape.of(n), DType.F32);
                b.random().uniform(new UniformRequest(v, low, high, seed, offset));
                float[] got = b.tensors().download(v);
                if (first == null) {
                    for (int i = 0; i < n; i++) {
                        // a view's element i is its own flat index, not its place in the base
                        assertEquals(expected(seed, offset, i, low, high), got[i], 0f, "element " + i);
                        assertTrue(got[i] >= low && got[i] < high, "in [low, high)");
                    }
                    first = got;
                } else {
                    assertArrayEquals(first, got, threads + " threads");
                }
            }
        }
    }
}
