package dev.attn4j.backend.cuda;

import dev.attn4j.oracle.EmbeddingOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cuda engine on the host emulation of its kernels ({@link EmulatedCuda}), for what the conformance suite's rows
 * (run by conformance-tests' CudaEmulationConformanceTest) do not reach: views' lifetime and overlap rules, and an
 * embedding backward long enough for the sort's global merge steps. Skipped where g++ cannot build the emulation.
 */
class EmulatedEngineTest {

    static Backend open(int lossChunkRows) {
        String why = EmulatedCuda.unavailable();
        assumeTrue(why == null, why);
        return EmulatedCuda.open(lossChunkRows);
    }

    @Test
    void addRunsThroughTheEmulatedKernels() {
        try (Backend cuda = open(0)) {
            DeviceTensor a = cuda.tensors().upload(new float[] {1, 2, 3}, Shape.of(3), DType.F32);
            DeviceTensor b = cuda.tensors().upload(new float[] {10, 20, 30}, Shape.of(3), DType.F32);
            DeviceTensor y = cuda.elementwise().add(new AddRequest(a, b, 0.5f));
            assertArrayEquals(new float[] {6, 12, 18}, cuda.tensors().download(y));
        }
    }

    @Test
    void viewsReadAndWriteTheirBaseAndCloseWithIt() {
        try (Backend cuda = open(0)) {
            float[] values = new float[24];
            for (int i = 0; i < values.length; i++) {
                values[i] = i;
            }
            DeviceTensor base = cuda.tensors().upload(values, Shape.of(4, 6), DType.F32);
            DeviceTensor row2 = cuda.tensors().view(base, 12, Shape.of(6));
            DeviceTensor inner = cuda.tensors().view(row2, 1, Shape.of(2, 2));   // a view of a view
            assertArrayEquals(new float[] {13, 14, 15, 16}, cuda.tensors().download(inner));
            cuda.tensors().fill(inner, -1f);
            float[] after = cuda.tensors().download(base);
            assertArrayEquals(new float[] {12, -1, -1, -1, -1, 17}, java.util.Arrays.copyOfRange(after, 12, 18));
            assertEquals(11f, after[11]);   // the row before the view is untouched
            assertEquals(18f, after[18]);
            // a GEMM on views: rows 0-1 (as [2, 6]) times the transposed rows 2-3
            DeviceTensor top = cuda.tensors().view(base, 0, Shape.of(2, 6));
            DeviceTensor bottom = cuda.tensors().view(base, 12, Shape.of(2, 6));
            DeviceTensor c = cuda.tensors().zeros(Shape.of(2, 2), DType.F32);
            cuda.linear().matmul(new MatmulRequest(top, false, bottom, true, c, 1f, 0f));
            float[] got = cuda.tensors().download(c);
            float[] b = cuda.tensors().download(bottom);
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    float want = 0;
                    for (int k = 0; k < 6; k++) {
                        want += values[i * 6 + k] * b[j * 6 + k];
                    }
                    assertEquals(want, got[i * 2 + j], 1e-4);
                }
            }
            int open = cuda.openTensors().orElseThrow();
            base.close();
            assertTrue(row2.isClosed() && inner.isClosed() && top.isClosed() && bottom.isClosed(),
                    "closing the base closed its views, and theirs");
            assertEquals(open - 5, cuda.openTensors().orElseThrow());
        }
    }

    @Test
    void writesOverlappingTheirInputsThroughViewsAreRejectedBeforeAnyKernel() {
        try (Backend cuda = open(0)) {
            DeviceTensor base = cuda.tensors().upload(new float[16], Shape.of(16), DType.F32);
            DeviceTensor a = cuda.tensors().view(base, 0, Shape.of(8));
            DeviceTensor b = cuda.tensors().view(base, 4, Shape.of(8));
            assertThrows(InvalidRequestException.class, () -> cuda.tensors().copy(CopyRequest.into(a, b, 0)));
            assertThrows(InvalidRequestException.class, () -> cuda.elementwise().axpy(new AxpyRequest(1f, a, b)));
            DeviceTensor same = cuda.tensors().view(base, 0, Shape.of(8));
            cuda.elementwise().axpy(new AxpyRequest(1f, a, same));   // the very same elements: in place is fine
            DeviceTensor m = cuda.tensors().view(base, 0, Shape.of(2, 2));
            DeviceTensor out = cuda.tensors().view(base, 2, Shape.of(2, 2));
            assertThrows(InvalidRequestException.class,
                    () -> cuda.linear().matmul(new MatmulRequest(m, false, m, false, out, 1f, 0f)));
        }
    }

    @Test
    void embeddingBackwardThroughTheGlobalSortStepsMatchesTheOracle() {
        int tokens = 2500;   // 4096 keys: segments sorted in shared memory, then merges of 2048 and 4096
        int vocab = 37;
        int width = 5;
        Random r = new Random(3);
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = r.nextInt(vocab);
        }
        double[] dy = new double[tokens * width];
        double[] g0 = new double[vocab * width];
        float[] dyF = new float[dy.length];
        float[] g0F = new float[g0.length];
        for (int i = 0; i < dy.length; i++) {
            dyF[i] = (float) r.nextGaussian();
            dy[i] = dyF[i];
        }
        for (int i = 0; i < g0.length; i++) {
            g0F[i] = (float) r.nextGaussian();
            g0[i] = g0F[i];
        }
        try (Backend cuda = open(0)) {
            DeviceTensor table = cuda.tensors().zeros(Shape.of(vocab, width), DType.F32);
            DeviceTensor grad = cuda.tensors().upload(g0F, Shape.of(vocab, width), DType.F32);
            EmbeddingRequest fwd = new EmbeddingRequest(table, cuda.tensors().uploadInts(ids, Shape.of(tokens)));
            cuda.embedding().backward(new EmbeddingBackwardRequest(fwd, cuda.tensors().upload(dyF, Shape.of(tokens, width),
                    DType.F32), grad));
            PassRule.check("tableGrad", EmbeddingOracle.backward(ids, dy, width, g0, Precision.FP64),
                    EmbeddingOracle.backward(ids, dy, width, g0, Precision.of(DType.F32)), cuda.tensors().download(grad),
                    DType.F32).requirePassed();
        }
    }
}
