package dev.attn4j.backend.cuda;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The cuda engine on the host emulation: smoke checks of the emulated device itself. */
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
}
