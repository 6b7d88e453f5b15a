package dev.attn4j.ports.activation;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two forms' shapes, and the checks that run before any backend sees a request. */
class GluRequestTest {

    /** A shape-only tensor: the records read nothing else, so sizes no backend could hold can be tried. */
    private record Described(Shape shape, DType dtype) implements DeviceTensor {
        @Override
        public String backendName() {
            return "none";
        }

        @Override
        public boolean isClosed() {
            return false;
        }

        @Override
        public void close() {
        }
    }

    private static DeviceTensor t(DType dtype, int... dims) {
        return new Described(Shape.of(dims), dtype);
    }

    @Test
    void concatenatedHalvesTheLastDimensionAndItsGradientIsShapedAsItsInput() {
        GluRequest r = new GluRequest(Activation.SILU, t(DType.F32, 2, 3, 10));
        assertFalse(r.isSplit());
        assertEquals(5, r.halfWidth());
        assertEquals(6, r.rows());
        assertEquals(Shape.of(2, 3, 5), r.outputShape());
        assertEquals(Shape.of(2, 3, 10), r.gradientShape());
    }

    @Test
    void splitKeepsTheShapeAndStacksItsGradient() {
        GluRequest r = GluRequest.split(Activation.GELU, t(DType.F32, 2, 3, 5), t(DType.F32, 2, 3, 5));
        assertTrue(r.isSplit());
        assertEquals(5, r.halfWidth());
        assertEquals(6, r.rows());
        assertEquals(Shape.of(2, 3, 5), r.outputShape());
        assertEquals(Shape.of(2, 2, 3, 5), r.gradientShape());
        assertEquals(2, r.tensors().size());
    }

    @Test
    void aSplitGradientPastTheTensorLimitIsRefusedBeforeAnyKernel() {
        // each half holds 2^30 + 2^20 elements (a tensor may hold 2^31 - 1): the stacked gradient could not exist
        int rows = (1 << 20) + 1;
        GluRequest r = GluRequest.split(Activation.SILU, t(DType.F32, rows, 1024), t(DType.F32, rows, 1024));
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> new GluBackwardRequest(r, t(DType.F32, rows, 1024)));
        assertTrue(e.getMessage().contains("forward"), e.getMessage());
    }

    @Test
    void badHalvesAreRefused() {
        DeviceTensor a = t(DType.F32, 2, 3);
        assertThrows(InvalidRequestException.class, () -> GluRequest.split(Activation.SILU, a, t(DType.F32, 2, 4)));
        assertThrows(InvalidRequestException.class, () -> GluRequest.split(Activation.SILU, a, t(DType.BF16, 2, 3)));
        assertThrows(InvalidRequestException.class, () -> GluRequest.split(Activation.SILU, a, a));
        assertThrows(InvalidRequestException.class, () -> GluRequest.split(Activation.SILU, a, null));
        assertThrows(InvalidRequestException.class, () -> GluRequest.split(Activation.SILU, t(DType.I32, 2, 3),
                t(DType.I32, 2, 3)));
        assertThrows(InvalidRequestException.class, () -> new GluRequest(Activation.SILU, t(DType.F32, 2, 3)));
        GluRequest split = GluRequest.split(Activation.SILU, a, t(DType.F32, 2, 3));
        assertThrows(InvalidRequestException.class, () -> new GluBackwardRequest(split, t(DType.F32, 2, 6)));
    }
}
