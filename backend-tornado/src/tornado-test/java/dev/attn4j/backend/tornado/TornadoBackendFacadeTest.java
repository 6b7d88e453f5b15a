package dev.attn4j.backend.tornado;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.Backends;
import dev.attn4j.ports.UnsupportedCapabilityException;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs only in the {@code tornado} profile: the backend as users get it, through ServiceLoader, the provider's
 * reflective open and the validating facade.
 */
class TornadoBackendFacadeTest {

    @Test
    void opensByNameAndRunsAnRmsNormThroughTheFacade() {
        try (Backend backend = Backends.open("tornado")) {
            assertEquals("tornado", backend.name());
            assertFalse(backend.devices().isEmpty());
            DeviceTensor x = backend.tensors().upload(new float[] {3, 4, 0, 0, -2, 0}, Shape.of(2, 3), DType.F32);
            DeviceTensor g = backend.tensors().upload(new float[] {1, 1, 2}, Shape.of(3), DType.F32);
            try (NormResult r = backend.normalization().forward(NormRequest.rmsNorm(x, g, 1e-12))) {
                // Row 1: rms = sqrt(25/3); row 2: rms = sqrt(4/3).
                double r1 = Math.sqrt(3.0 / 25);
                double r2 = Math.sqrt(3.0 / 4);
                float[] y = backend.tensors().download(r.y());
                double[] expected = {3 * r1, 4 * r1, 0, 0, -2 * r2, 0};
                for (int i = 0; i < y.length; i++) {
                    assertEquals(expected[i], y[i], 1e-6, "y[" + i + "]");
                }
            }
        }
    }

    @Test
    void sixteenBitStorageIsNotDeclaredAndIsRejectedBeforeAnyKernel() {
        try (Backend backend = Backends.open("tornado")) {
            assertFalse(backend.stores(DType.F16));
            assertFalse(backend.stores(DType.BF16));
            UnsupportedCapabilityException e = assertThrows(UnsupportedCapabilityException.class,
                    () -> backend.tensors().zeros(Shape.of(2), DType.F16));
            assertTrue(e.getMessage().contains("tornado"), e.getMessage());
            assertThrows(UnsupportedCapabilityException.class,
                    () -> backend.tensors().upload(new float[2], Shape.of(2), DType.BF16));
        }
    }
}
