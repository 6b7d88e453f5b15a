package dev.attn4j.backend.cpu;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.HalfFloats;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorFeature;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Views, strided copies, casts and fills of the CPU tensor port: what they share, close and round. */
class CpuTensorsTest {
    private CpuEngine engine;
    private Backend backend;
    private TensorPort tensors;

    @BeforeEach
    void open() {
        engine = new CpuEngine(2);
        backend = Backend.of(engine);
        tensors = backend.tensors();
    }

    @AfterEach
    void close() {
        backend.close();
    }

    private static float[] iota(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
        }
        return x;
    }

    @Test
    void declaresEveryOperationWithoutAlignment() {
        TensorCapabilities caps = backend.capabilities().port(TensorCapabilities.class).orElseThrow();
        for (TensorFeature f : TensorFeature.values()) {
            assertTrue(caps.supports(f), f.name());
        }
        assertEquals(1, caps.viewAlignment());
    }

    @Test
    void viewsShareStorageAndComposeOffsets() {
        DeviceTensor base = tensors.upload(iota(24), Shape.of(2, 3, 4), DType.F32);
        DeviceTensor row = tensors.view(base, 4, Shape.of(3, 4));
        assertArrayEquals(Arrays.copyOfRange(iota(24), 4, 16), tensors.download(row));
        DeviceTensor inner = tensors.view(row, 5, Shape.of(2, 2));
        assertArrayEquals(new float[] {9, 10, 11, 12}, tensors.download(inner));
        // Writes through the innermost view are seen by the base, and the other way round.
        tensors.fill(inner, -1f);
        float[] all = tensors.download(base);
        for (int i = 0; i < 24; i++) {
            assertEquals(i >= 9 && i < 13 ? -1f : i, all[i], "base element " + i);
        }
        tensors.copy(CopyRequest.into(tensors.upload(new float[] {100}, Shape.of(1), DType.F32), base, 10));
        assertEquals(100f, tensors.download(inner)[1]);
    }

    @Test
    void closingAViewLeavesItsBaseAndClosingABaseClosesItsViews() {
        int before = engine.liveTensors();
        DeviceTensor base = tensors.upload(iota(16), Shape.of(16), DType.F32);
        DeviceTensor a = tensors.view(base, 2, Shape.of(8));
        DeviceTensor aa = tensors.view(a, 1, Shape.of(4));
        DeviceTensor b = tensors.view(base, 8, Shape.of(8));
        assertEquals(before + 4, engine.liveTensors());

        a.close();
        assertTrue(a.isClosed());
        assertTrue(aa.isClosed(), "a view of a closed view is closed too");
        assertFalse(base.isClosed());
        assertArrayEquals(iota(16), tensors.download(base), "closing a view keeps the data");
        assertThrows(InvalidRequestException.class, () -> tensors.download(a));
        assertEquals(before + 2, engine.liveTensors());

        base.close();
        assertTrue(b.isClosed(), "closing the base closes its views");
        assertEquals(before, engine.liveTensors());
        assertThrows(InvalidRequestException.class, () -> tensors.view(base, 0, Shape.of(1)));
    }

    @Test
    void closingTheBackendClosesViews() {
        DeviceTensor base = tensors.upload(iota(8), Shape.of(8), DType.F32);
        DeviceTensor v = tensors.view(base, 3, Shape.of(5));
        backend.close();
        assertTrue(base.isClosed());
        assertTrue(v.isClosed());
        assertEquals(0, engine.liveTensors());
    }

    @ParameterizedTest
    @EnumSource(value = DType.class)
    void viewsOfEveryDtype(DType dtype) {
        DeviceTensor base = switch (dtype) {
            case I32 -> tensors.uploadInts(new int[] {5, 6, 7, 8}, Shape.of(4));
            case BOOL -> tensors.uploadBools(new boolean[] {true, false, false, true}, Shape.of(4));
            default -> tensors.upload(new float[] {5, 6, 7, 8}, Shape.of(4), dtype);
        };
        DeviceTensor v = tensors.view(base, 1, Shape.of(2));
        assertEquals(dtype, v.dtype());
        switch (dtype) {
            case I32 -> assertArrayEquals(new int[] {6, 7}, tensors.downloadInts(v));
            case BOOL -> assertArrayEquals(new boolean[] {false, false}, tensors.downloadBools(v));
            default -> assertArrayEquals(new float[] {6, 7}, tensors.download(v));
        }
    }

    @Test
    void stridedCopyAppendsARowToEveryBatchOfACache() {
        int batch = 3;
        int sMax = 5;
        int row = 4;
        DeviceTensor cache = tensors.zeros(Shape.of(batch, sMax, row), DType.F32);
        DeviceTensor kT = tensors.upload(iota(batch * row), Shape.of(batch, 1, row), DType.F32);
        int t = 2;
        tensors.copy(new CopyRequest(kT, 0, row, cache, (long) t * row, (long) sMax * row, batch, row));
        float[] got = tensors.download(cache);
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < sMax; s++) {
                for (int c = 0; c < row; c++) {
                    float want = s == t ? b * row + c : 0f;
                    assertEquals(want, got[(b * sMax + s) * row + c], "b=" + b + " s=" + s + " c=" + c);
                }
            }
        }
    }

    @Test
    void copyRowsLongerThanOnePieceAndManyShortRows() {
        int n = 3 * WorkerPool.RANGE + 17;
        float[] src = iota(n);
        DeviceTensor a = tensors.upload(src, Shape.of(n), DType.F32);
        DeviceTensor b = tensors.zeros(Shape.of(n + 5), DType.F32);
        tensors.copy(CopyRequest.into(a, b, 5));
        assertArrayEquals(src, Arrays.copyOfRange(tensors.download(b), 5, n + 5));
        // 40 000 rows of 3 of every 7 elements: many rows per piece.
        int rows = 40_000;
        DeviceTensor wide = tensors.upload(iota(rows * 7), Shape.of(rows, 7), DType.F32);
        DeviceTensor narrow = tensors.zeros(Shape.of(rows, 3), DType.F32);
        tensors.copy(new CopyRequest(wide, 2, 7, narrow, 0, 3, rows, 3));
        float[] got = tensors.download(narrow);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(r * 7 + 2 + c, got[r * 3 + c], 0f);
            }
        }
    }

    @Test
    void copyBetweenViewsOfOneStorageMustNotOverlap() {
        DeviceTensor base = tensors.upload(iota(20), Shape.of(20), DType.F32);
        DeviceTensor left = tensors.view(base, 0, Shape.of(10));
        DeviceTensor right = tensors.view(base, 8, Shape.of(12));
        // right's elements 0..1 are left's 8..9: overlapping storage, rejected before anything moves.
        assertThrows(InvalidRequestException.class, () -> tensors.copy(CopyRequest.into(left, right, 0)));
        assertArrayEquals(iota(20), tensors.download(base));
        // Disjoint ranges of the same storage are fine.
        tensors.copy(new CopyRequest(left, 0, 1, right, 2, 1, 1, 10));
        float[] got = tensors.download(base);
        for (int i = 0; i < 10; i++) {
            assertEquals(i, got[10 + i], 0f);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "I32", "BOOL"})
    void copyKeepsBitsOfEveryDtype(DType dtype) {
        DeviceTensor src;
        DeviceTensor dst;
        switch (dtype) {
            case I32 -> {
                src = tensors.uploadInts(new int[] {1, 2, 3, 4}, Shape.of(4));
                dst = tensors.zeros(Shape.of(6), DType.I32);
            }
            case BOOL -> {
                src = tensors.uploadBools(new boolean[] {true, true, false, true}, Shape.of(4));
                dst = tensors.zeros(Shape.of(6), DType.BOOL);
            }
            default -> {
                src = tensors.upload(new float[] {1.5f, -2f, 3.25f, 1e-3f}, Shape.of(4), dtype);
                dst = tensors.zeros(Shape.of(6), dtype);
            }
        }
        tensors.copy(new CopyRequest(src, 1, 2, dst, 0, 3, 2, 1));   // elements 1 and 3 to 0 and 3
        switch (dtype) {
            case I32 -> assertArrayEquals(new int[] {2, 0, 0, 4, 0, 0}, tensors.downloadInts(dst));
            case BOOL -> assertArrayEquals(new boolean[] {true, false, false, true, false, false}, tensors.downloadBools(dst));
            default -> assertArrayEquals(new float[] {-2f, 0, 0, HalfFloats.fromBf16(HalfFloats.toBf16(1e-3f)), 0, 0},
                    tensors.download(dst));
        }
    }

    @Test
    void castRoundsToNearestEvenBetweenAllFloatingTypes() {
        // 1 + 2^-8 is a BF16 tie (rounds down to 1), 1 + 3·2^-8 rounds up to 1 + 2^-6; 1 + 2^-11 is an F16 tie.
        float[] values = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, 1f + 0x1p-11f, 1f + 3 * 0x1p-11f, 65520f, -0f, Float.NaN,
                1e-8f, 1f / 3};
        DeviceTensor base = tensors.upload(concat(new float[] {7, 7}, values), Shape.of(values.length + 2), DType.F32);
        DeviceTensor f32 = tensors.view(base, 2, Shape.of(values.length));
        for (DType to : new DType[] {DType.F16, DType.BF16}) {
            try (DeviceTensor half = tensors.cast(f32, to)) {
                assertEquals(to, half.dtype());
                float[] got = tensors.download(half);
                for (int i = 0; i < values.length; i++) {
                    float want = HalfFloats.from(to, HalfFloats.to(to, values[i]));
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]), to + " " + values[i]);
                }
                DType other = to == DType.F16 ? DType.BF16 : DType.F16;
                try (DeviceTensor back = tensors.cast(half, DType.F32); DeviceTensor across = tensors.cast(half, other)) {
                    assertArrayEquals(got, tensors.download(back), "widening is exact");
                    float[] a = tensors.download(across);
                    for (int i = 0; i < values.length; i++) {
                        float want = HalfFloats.from(other, HalfFloats.to(other, got[i]));
                        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(a[i]), to + " -> " + other);
                    }
                }
            }
        }
        assertEquals(1f, HalfFloats.fromBf16(HalfFloats.toBf16(1f + 0x1p-8f)), "the tie case is a tie");
    }

    @Test
    void fillWritesOnlyTheViewRoundedToItsDtype() {
        for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            int n = 2 * WorkerPool.RANGE + 3;
            DeviceTensor base = tensors.zeros(Shape.of(n), dtype);
            DeviceTensor v = tensors.view(base, 1, Shape.of(n - 2));
            tensors.fill(v, 1f / 3);
            float[] got = tensors.download(base);
            float want = dtype == DType.F32 ? 1f / 3 : HalfFloats.from(dtype, HalfFloats.to(dtype, 1f / 3));
            assertEquals(0f, got[0]);
            assertEquals(0f, got[n - 1]);
            for (int i = 1; i < n - 1; i++) {
                assertEquals(want, got[i], 0f, dtype + " element " + i);
            }
        }
    }

    @Test
    void closedArraysBecomeOutputsOnlyWhenNothingSharesThem() {
        int n = ArrayRecycler.MIN_LENGTH + 3;
        ArrayRecycler recycler = engine.recycler();
        float[] x = iota(n);
        DeviceTensor xt = tensors.upload(x, Shape.of(n), DType.F32);
        DeviceTensor first = backend.activation().forward(new dev.attn4j.ports.activation.ActivationRequest(
                dev.attn4j.ports.activation.Activation.SILU, xt));
        float[] want = tensors.download(first);
        DeviceTensor v = tensors.view(first, 1, Shape.of(5));
        v.close();
        assertEquals(0, recycler.held(), "closing a view keeps the array with its base");
        DeviceTensor view = tensors.view(first, 0, Shape.of(5));
        first.close();
        assertTrue(view.isClosed());
        assertEquals(n, recycler.held(), "the base's array is kept once its views are closed");
        // The next output of that length takes it, old contents and all, and overwrites every element.
        tensors.fill(xt, 0f);
        try (DeviceTensor second = backend.activation().forward(new dev.attn4j.ports.activation.ActivationRequest(
                dev.attn4j.ports.activation.Activation.SILU, tensors.upload(x, Shape.of(n), DType.F32)))) {
            assertEquals(0, recycler.held(), "taken");
            assertArrayEquals(want, tensors.download(second));
        }
        // Small arrays are not kept; zeros never takes a kept array.
        tensors.upload(new float[10], Shape.of(10), DType.F32).close();
        assertEquals(n, recycler.held());
        try (DeviceTensor z = tensors.zeros(Shape.of(n), DType.F32)) {
            assertEquals(n, recycler.held());
            for (float f : tensors.download(z)) {
                assertEquals(0f, f);
            }
        }
    }

    @Test
    void theRecyclerKeepsNoMoreThanItsBudget() {
        ArrayRecycler r = new ArrayRecycler(3L * ArrayRecycler.MIN_LENGTH);
        r.give(new float[ArrayRecycler.MIN_LENGTH]);
        r.give(new float[2 * ArrayRecycler.MIN_LENGTH]);
        r.give(new float[ArrayRecycler.MIN_LENGTH]);   // over budget: dropped
        assertEquals(3L * ArrayRecycler.MIN_LENGTH, r.held());
        assertEquals(2 * ArrayRecycler.MIN_LENGTH, r.take(2 * ArrayRecycler.MIN_LENGTH).length);
        assertEquals(null, r.take(2 * ArrayRecycler.MIN_LENGTH));
        assertEquals(ArrayRecycler.MIN_LENGTH, r.held());
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
