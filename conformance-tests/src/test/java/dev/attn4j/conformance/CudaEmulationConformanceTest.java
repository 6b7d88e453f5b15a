package dev.attn4j.conformance;

import dev.attn4j.backend.cuda.EmulatedCuda;
import dev.attn4j.conformance.models.ModelParityTest;
import dev.attn4j.ports.Backend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.stream.Stream;

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
