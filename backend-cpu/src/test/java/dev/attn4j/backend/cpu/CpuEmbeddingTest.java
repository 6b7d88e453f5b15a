package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The CPU embedding port: gather, and a scatter-add backward that sums each row in token order on any thread count. */
class CpuEmbeddingTest {

    private static float[] gauss(long seed, int n) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    @Test
    void forwardGathersRowsOnViews() {
        try (Backend b = Backend.of(new CpuEngine(2))) {
            int v = 7;
            int d = 5;
            float[] table = gauss(1, v * d);
            int[] ids = {3, 0, 6, 3, 1, 1};
            DeviceTensor t = Views.floats(b, table, Shape.of(v, d), DType.F32);
            DeviceTensor i = Views.ints(b, ids, Shape.of(2, 3), 2);
            var fwd = new EmbeddingRequest(t, i);
            float[] y = b.tensors().download(b.embedding().forward(fwd));
            for (int k = 0; k < ids.length; k++) {
                for (int c = 0; c < d; c++) {
                    org.junit.jupiter.api.Assertions.assertEquals(table[ids[k] * d + c], y[k * d + c], 0f);
                }
            }
        }
    }

    /**
     * The backward's expected bits: {@code tableGrad[id] += dy[t]} in token order, in float — the order the port
     * promises, and the one whose float sums this checks exactly.
     */
    private static float[] tokenOrder(float[] grad0, int[] ids, float[] dy, int d) {
        float[] g = grad0.clone();
        for (int t = 0; t < ids.length; t++) {
            for (int c = 0; c < d; c++) {
                g[ids[t] * d + c] += dy[t * d + c];
            }
        }
        return g;
    }

    @Test
    void backwardAddsEachRowInTokenOrderWhateverTheThreadCount() {
        int v = 50;
        int d = 2 * CpuEmbedding.FEATURE_BLOCK + 3;   // three feature blocks, the last short
        int tokens = 700;
        SplittableRandom rnd = new SplittableRandom(2);
        int[] ids = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            ids[t] = rnd.nextInt(10) == 0 ? 7 : rnd.nextInt(v);   // many repeats of id 7
        }
        float[] dy = gauss(3, tokens * d);
        float[] grad0 = gauss(4, v * d);
        float[] want = tokenOrder(grad0, ids, dy, d);
        for (int threads : new int[] {1, 2, 3}) {
            try (Backend b = Backend.of(new CpuEngine(threads))) {
                var fwd = new EmbeddingRequest(b.tensors().zeros(Shape.of(v, d), DType.F32),
                        Views.ints(b, ids, Shape.of(tokens), 0));
                DeviceTensor grad = Views.floats(b, grad0, Shape.of(v, d), DType.F32);
                b.embedding().backward(new EmbeddingBackwardRequest(fwd,
                        Views.floats(b, dy, Shape.of(tokens, d), DType.F32), grad));
                assertArrayEquals(want, b.tensors().download(grad), threads + " threads");
            }
        }
    }

    @Test
    void gradientSharingStorageWithDyIsRejected() {
        try (Backend b = Backend.of(new CpuEngine(2))) {
            DeviceTensor base = b.tensors().upload(gauss(5, 40), Shape.of(40), DType.F32);
            float[] before = b.tensors().download(base);
            var fwd = new EmbeddingRequest(b.tensors().zeros(Shape.of(4, 5), DType.F32),
                    b.tensors().uploadInts(new int[] {1, 2}, Shape.of(2)));
            DeviceTensor dy = b.tensors().view(base, 0, Shape.of(2, 5));
            DeviceTensor grad = b.tensors().view(base, 5, Shape.of(4, 5));
            assertThrows(InvalidRequestException.class,
                    () -> b.embedding().backward(new EmbeddingBackwardRequest(fwd, dy, grad)));
            assertArrayEquals(before, b.tensors().download(base));
        }
    }
}
