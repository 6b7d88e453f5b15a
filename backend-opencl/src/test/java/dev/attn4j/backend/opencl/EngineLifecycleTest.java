package dev.attn4j.backend.opencl;

import dev.attn4j.oracle.junit.EachBackend;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.ClosedException;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Buffers, kernels, programs, queue and context are all released; closing the backend frees what is left. */
class EngineLifecycleTest {

    /**
     * Issue 13 item 5: a call that passed the ports' checks and then found its engine or tensor closed (it waited
     * for the engine's lock while another thread closed them) fails with ClosedException, an attn4j error; it
     * was a bare IllegalStateException. Calling the engine's ports directly is exactly that position.
     */
    @Test
    void aCallThatFindsItsEngineOrTensorClosedFailsWithClosedException() {
        OpenClEngine engine = OpenClTesting.openEngine();
        try (Backend backend = Backend.of(engine)) {
            DeviceTensor q = backend.tensors().zeros(Shape.of(1, 4, 2, 16), DType.F32);
            DeviceTensor k = backend.tensors().zeros(Shape.of(1, 4, 2, 16), DType.F32);
            AttentionRequest request = new AttentionRequest(q, k, k, null);
            q.close();
            ClosedException tensorClosed = assertThrows(ClosedException.class, () -> engine.attention().forward(request));
            assertTrue(tensorClosed.getMessage().contains("was closed while a call was using it"), tensorClosed.getMessage());
            assertEquals(1, engine.liveBuffers(), "k only: the failed call's outputs were released");
            DeviceTensor q2 = backend.tensors().zeros(Shape.of(1, 4, 2, 16), DType.F32);
            DeviceTensor gamma = backend.tensors().zeros(Shape.of(16), DType.F32);
            AttentionRequest again = new AttentionRequest(q2, k, k, null);
            engine.close();
            ClosedException engineClosed = assertThrows(ClosedException.class, () -> engine.attention().forward(again));
            assertEquals("the opencl backend was closed before this call could run", engineClosed.getMessage());
            assertThrows(ClosedException.class, () -> engine.normalization().forward(NormRequest.rmsNorm(q2, gamma, 1e-6)));
            assertThrows(ClosedException.class, () -> engine.tensors().download(k));
            assertThrows(ClosedException.class, () -> engine.tensors().zeros(Shape.of(2), DType.F32));
        }
    }

    @Test
    void openingAndClosingManyTimesLeaksNothing() {
        for (int round = 0; round < 8; round++) {
            OpenClEngine engine = OpenClTesting.openEngine();
            try (Backend backend = Backend.of(engine)) {
                List<DeviceTensor> kept = new ArrayList<>();
                for (int t = 0; t < 25; t++) {
                    DeviceTensor x = backend.tensors().upload(new float[] {t, 1, 2, 3, 4, 5}, Shape.of(2, 3), DType.F32);
                    assertEquals(1, referenceCount((ClTensor) x), "a fresh buffer has one reference");
                    if (t % 2 == 0) {
                        x.close();
                        assertTrue(x.isClosed());
                    } else {
                        kept.add(x);
                    }
                }
                assertEquals(12, engine.liveBuffers(), "the 13 closed tensors released their buffers");
                try (DeviceTensor q = backend.tensors().zeros(Shape.of(1, 5, 2, 16), DType.F32);
                     DeviceTensor k = backend.tensors().zeros(Shape.of(1, 7, 1, 16), DType.F32);
                     AttentionResult r = backend.attention().forward(new AttentionRequest(q, k, k,
                             AttentionOptions.builder().causal(true).build()))) {
                    assertEquals(16, engine.liveBuffers(), "q, k, o and lse on top of the 12 kept");
                    assertEquals(Shape.of(1, 2, 5), r.lse().shape());
                    assertEquals(1, engine.liveCode()[0], "one program built for D=16");
                }
                assertEquals(12, engine.liveBuffers(), "results and inputs released");
                // Choosing tiles creates the forward, dQ and dK/dV kernels once; later calls reuse them.
                assertEquals(3, engine.liveCode()[1], "three attention kernels, each created once");
                // 12 tensors stay open on purpose: closing the backend must free them.
                assertEquals(12, kept.size());
            }
            assertEquals(0, engine.liveBuffers());
            assertArrayEquals(new int[] {0, 0}, engine.liveCode(), "programs and kernels released");
            assertTrue(engine.isClosed());
        }
    }

    @Test
    void tensorsOfAClosedBackendAreClosedAndCloseIsIdempotent() {
        OpenClEngine engine = OpenClTesting.openEngine();
        Backend backend = Backend.of(engine);
        DeviceTensor x = backend.tensors().upload(new float[] {1, 2, 3}, Shape.of(3), DType.F32);
        backend.close();
        assertTrue(x.isClosed());
        x.close();
        backend.close();
        engine.close();
        assertEquals(0, engine.liveBuffers());
    }

    @Test
    void normScratchAndFailedRequestsLeakNothing() {
        OpenClEngine engine = OpenClTesting.openEngine();
        try (Backend backend = Backend.of(engine);
             DeviceTensor x = backend.tensors().upload(new float[] {1, 2, 3, 4, 5, 6}, Shape.of(2, 3), DType.F32);
             DeviceTensor g = backend.tensors().upload(new float[] {1, 1, 1}, Shape.of(3), DType.F32)) {
            for (int i = 0; i < 5; i++) {
                try (NormResult r = backend.normalization().forward(NormRequest.rmsNorm(x, g, 1e-6))) {
                    assertEquals(4, engine.liveBuffers(), "x, gamma, y and rstd");
                    assertEquals(null, r.mean(), "RMSNorm saves no mean");
                }
            }
            DeviceTensor closed = backend.tensors().upload(new float[] {1, 2, 3}, Shape.of(3), DType.F32);
            closed.close();
            assertThrows(InvalidRequestException.class,
                    () -> backend.normalization().forward(NormRequest.rmsNorm(x, closed, 1e-6)));
            assertEquals(2, engine.liveBuffers());
        }
        assertEquals(0, engine.liveBuffers());
    }

    /** Kernels are shared objects: concurrent callers must each get their own, correct, result. */
    @Test
    void concurrentCallersGetTheSingleThreadedResults() throws Exception {
        OpenClEngine engine = OpenClTesting.openEngine();
        try (Backend backend = Backend.of(engine)) {
            int threads = 4;
            float[][] expected = new float[threads][];
            float[][] inputs = new float[threads][];
            for (int t = 0; t < threads; t++) {
                inputs[t] = new float[3 * 9 * 2 * 16];
                for (int i = 0; i < inputs[t].length; i++) inputs[t][i] = (float) Math.sin(i * (t + 1) * 0.37);
                expected[t] = forward(backend, inputs[t]);
            }
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(threads)) {
                List<java.util.concurrent.Future<Boolean>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    done.add(pool.submit(() -> {
                        for (int round = 0; round < 10; round++) {
                            if (!java.util.Arrays.equals(expected[id], forward(backend, inputs[id]))) return false;
                        }
                        return true;
                    }));
                }
                for (var f : done) assertTrue(f.get(), "a concurrent call saw another call's arguments");
            }
            assertEquals(0, engine.liveBuffers());
        }
    }

    private static float[] forward(Backend backend, float[] x) {
        try (DeviceTensor q = backend.tensors().upload(x, Shape.of(3, 9, 2, 16), DType.F32);
             AttentionResult r = backend.attention().forward(new AttentionRequest(q, q, q,
                     AttentionOptions.builder().causal(true).build()))) {
            return backend.tensors().download(r.o());
        }
    }

    /** Run through {@link EachBackend}: skipped with the probe's reason without OpenCL, failed if a tensor leaks. */
    @EachBackend("opencl")
    void roundTripsEveryStorageType(Backend backend) {
        float[] f = {1.5f, -2.25f, Float.NEGATIVE_INFINITY, 3e-8f, 7};
        int[] ints = {0, -1, Integer.MAX_VALUE, 42};
        boolean[] bools = {true, false, false, true, true};
        try (DeviceTensor a = backend.tensors().upload(f, Shape.of(5), DType.F32);
             DeviceTensor b = backend.tensors().uploadInts(ints, Shape.of(2, 2));
             DeviceTensor c = backend.tensors().uploadBools(bools, Shape.of(5));
             DeviceTensor z = backend.tensors().zeros(Shape.of(3, 3), DType.F32)) {
            assertArrayEquals(f, backend.tensors().download(a));
            assertArrayEquals(ints, backend.tensors().downloadInts(b));
            assertArrayEquals(bools, backend.tensors().downloadBools(c));
            assertArrayEquals(new float[9], backend.tensors().download(z));
        }
    }

    private static int referenceCount(ClTensor t) {
        int[] count = new int[1];
        CL.clGetMemObjectInfo(t.buffer(), CL.CL_MEM_REFERENCE_COUNT, Sizeof.cl_uint, Pointer.to(count), null);
        return count[0];
    }
}
