package dev.attn4j.conformance;

import dev.attn4j.backend.cuda.EmulatedCuda;
import dev.attn4j.conformance.models.ModelParityTest;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.GradientClip;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cuda backend without a GPU: its engine — every port's Java code and the CUDA kernels themselves — on the host
 * emulation of the kernels ({@code EmulatedCuda}: each CUDA thread a host thread, GEMMs by a host reference of
 * cuBLAS's column-major call). Every model-op row of the standard suite must pass, none may be unsupported, and the
 * model parity fixtures must match x-transformers. Skipped where g++ cannot build the emulation.
 *
 * <p>What this does not show: that the kernels run the same on a GPU (memory model, warp scheduling, the JIT), nor
 * cuBLAS itself; {@code tools/gpu-check.sh} runs the same rows on a real device.
 */
class CudaEmulationConformanceTest {
    private static ConformanceSuite suite;

    @BeforeAll
    static void emulation() {
        String why = EmulatedCuda.unavailable();
        assumeTrue(why == null, why);
        suite = ConformanceSuite.standard();
    }

    @TestFactory
    Stream<DynamicTest> everyModelOpRowPasses() {
        List<ConformanceCase> cases = suite.cases().stream().filter(c -> ModelOpsRunnerTest.MODEL_OPS.contains(c.op()))
                .toList();
        Backend cuda = EmulatedCuda.open(0);
        return Stream.concat(cases.stream().map(c -> DynamicTest.dynamicTest(c.op() + " " + c.id(), () -> {
            CaseResult r = suite.run(c, cuda);
            assertEquals(Outcome.PASSED, r.outcome(), r::toString);
        })), Stream.of(DynamicTest.dynamicTest("close", () -> {
            assertEquals(0, cuda.openTensors().orElse(-1), "the runners closed every tensor");
            cuda.close();
        })));
    }

    @Test
    void modelsMatchXTransformers() {
        try (Backend cuda = EmulatedCuda.open(0)) {
            for (String fixture : List.of("orca_small", "orca_small_mask", "gpt_small", "gpt2_small")) {
                ModelParityTest.decoderParity(cuda, fixture);
            }
            ModelParityTest.encoderDecoderParity(cuda);
        }
    }

    @Test
    void adamWAndUniformFillsAreBitIdenticalToTheCpuBackend() {
        try (Backend cuda = EmulatedCuda.open(0); Backend cpu = Backends.open("cpu")) {
            List<float[]> fromCuda = steps(cuda);
            List<float[]> fromCpu = steps(cpu);
            for (int i = 0; i < fromCpu.size(); i++) {
                assertArrayEquals(fromCpu.get(i), fromCuda.get(i), "output " + i);
            }
        }
    }

    /** Three clipped AdamW steps and two uniform fills (one odd-sized, one at a large offset) on {@code b}. */
    private static List<float[]> steps(Backend b) {
        Random r = new Random(5);
        int n = 1031;
        float[][] init = new float[4][n];
        for (float[] a : init) {
            for (int i = 0; i < n; i++) {
                a[i] = (float) r.nextGaussian();
            }
        }
        init[3] = init[3].clone();
        for (int i = 0; i < n; i++) {
            init[3][i] = Math.abs(init[3][i]);   // the second moment is non-negative
        }
        Shape s = Shape.of(n);
        DeviceTensor p = b.tensors().upload(init[0], s, DType.F32);
        DeviceTensor g = b.tensors().upload(init[1], s, DType.F32);
        DeviceTensor m = b.tensors().upload(init[2], s, DType.F32);
        DeviceTensor v = b.tensors().upload(init[3], s, DType.F32);
        DeviceTensor ss = b.tensors().zeros(Shape.of(1), DType.F32);
        b.optimizer().sumOfSquares(new SumOfSquaresRequest(g, ss));
        for (int step = 1; step <= 3; step++) {
            b.optimizer().adamW(new AdamWRequest(p, g, m, v, step, 3e-3f, 0.9f, 0.95f, 1e-8f, 0.1f,
                    new GradientClip(2.5f, ss)));
        }
        DeviceTensor u1 = b.tensors().zeros(Shape.of(37), DType.F32);
        b.random().uniform(new UniformRequest(u1, -0.3f, 0.7f, 0xDEADBEEFCAFEL, 5));
        DeviceTensor u2 = b.tensors().zeros(Shape.of(4, 9), DType.F32);
        b.random().uniform(new UniformRequest(u2, -1e-3f, 1e-3f, -7L, 1L << 45));
        List<float[]> out = new ArrayList<>();
        for (DeviceTensor t : List.of(p, m, v, ss, u1, u2)) {
            out.add(b.tensors().download(t));
        }
        return out;
    }

    @Test
    void crossEntropyInChunksOfThreeRowsPassesItsRows() {
        // the standard rows fit one chunk; here every case of more than three rows runs in several
        List<ConformanceCase> cases = suite.cases().stream().filter(c -> c.op() == Op.LINEAR_CROSS_ENTROPY).toList();
        try (Backend cuda = EmulatedCuda.open(3)) {
            for (ConformanceCase c : cases) {
                CaseResult r = suite.run(c, cuda);
                assertTrue(r.outcome() == Outcome.PASSED, r::toString);
            }
        }
    }
}
