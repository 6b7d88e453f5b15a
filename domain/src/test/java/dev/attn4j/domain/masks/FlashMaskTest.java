package dev.attn4j.domain.masks;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/** The reading of startend_row_indices fixed in docs/design.md §4, one column at a time. */
class FlashMaskTest {

    /** Column {@code j} of the mask drawn top to bottom: '.' = row may attend, 'x' = masked. */
    private static String maskedRows(FlashMask mask, int j) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < mask.seqQ(); i++) {
            out.append(mask.allows(0, 0, i, j) ? '.' : 'x');
        }
        return out.toString();
    }

    private static FlashMask column(boolean causal, int seqQ, int... values) {
        // Every column holds the same values; Sk = Sq, so causal's own mask hides rows < j of column j.
        int n = values.length;
        int seqK = seqQ;
        int[] data = new int[seqK * n];
        for (int j = 0; j < seqK; j++) {
            System.arraycopy(values, 0, data, j * n, n);
        }
        return new FlashMask(data, 1, 1, seqQ, seqK, n, causal);
    }

    @Test
    void causalN1MasksRowsFromLts() {
        assertEquals("xxxxxx", maskedRows(column(true, 6, 3), 5));
        assertEquals("xxxxx.", maskedRows(column(true, 6, 6), 5));
        assertEquals("xxxxxx", maskedRows(column(true, 6, 5), 5));
        assertEquals("...xxx", maskedRows(column(true, 6, 3), 0));
    }

    @Test
    void causalN2MasksRowsInLtsLte() {
        assertEquals(".xx...", maskedRows(column(true, 6, 1, 3), 0));
        assertEquals("......", maskedRows(column(true, 6, 4, 4), 0));
    }

    @Test
    void nonCausalN2MasksRowsFromLtsAndBelowUte() {
        assertEquals("xx..xx", maskedRows(column(false, 6, 4, 2), 3));
        assertEquals("......", maskedRows(column(false, 6, 6, 0), 3));
        assertEquals("xxxxxx", maskedRows(column(false, 6, 0, 0), 3));
    }

    @Test
    void nonCausalN4MasksTwoRanges() {
        assertEquals("x...xx", maskedRows(column(false, 6, 4, 6, 0, 1), 2));
        assertEquals(".xx.x.", maskedRows(column(false, 6, 4, 5, 1, 3), 2));
    }

    @Test
    void causalIsBottomRightAligned() {
        // Sq = 2, Sk = 4, off = 2: row 0 sees keys 0..2, row 1 sees 0..3.
        FlashMask m = FlashMasks.causal(2, 4);
        assertTrue(m.allows(0, 0, 0, 2));
        assertFalse(m.allows(0, 0, 0, 3));
        assertTrue(m.allows(0, 0, 1, 3));
    }

    @Test
    void valuesAboveSqActAsSq() {
        assertEquals(maskedRows(column(true, 6, 6), 5), maskedRows(column(true, 6, 600), 5));
        assertEquals(maskedRows(column(false, 6, 6, 6, 0, 0), 1), maskedRows(column(false, 6, 99, 99, 0, 0), 1));
    }

    @Test
    void rejectsNegativeValuesNamingTheColumn() {
        var e = assertThrows(InvalidRequestException.class,
                () -> new FlashMask(new int[] {3, 2, -1, 3}, 1, 1, 4, 4, 1, true));
        assertEquals("data", e.argument());
        assertTrue(e.getMessage().contains("-1 at column 2"), e.getMessage());
    }

    @Test
    void rejectsWrongLengthAndCausalNMismatch() {
        var len = assertThrows(InvalidRequestException.class, () -> new FlashMask(new int[5], 1, 1, 4, 4, 1, true));
        assertTrue(len.getMessage().contains("expected 4 values"), len.getMessage());
        var four = assertThrows(InvalidRequestException.class, () -> new FlashMask(new int[16], 1, 1, 4, 4, 4, true));
        assertEquals("n", four.argument());
        var one = assertThrows(InvalidRequestException.class, () -> new FlashMask(new int[4], 1, 1, 4, 4, 1, false));
        assertEquals("n", one.argument());
        assertThrows(InvalidRequestException.class, () -> new FlashMask(new int[12], 1, 1, 4, 4, 3, false));
        assertThrows(InvalidRequestException.class, () -> new FlashMask(null, 1, 1, 4, 4, 2, false));
    }

    @Test
    void dataIsCopiedInAndOut() {
        int[] data = {4, 4, 4, 4};
        FlashMask m = new FlashMask(data, 1, 1, 4, 4, 1, true);
        data[0] = 0;
        m.data()[1] = 0;
        assertArrayEquals(new int[] {4, 4, 4, 4}, m.data());
    }

    @Test
    void toDenseMatchesAllows() {
        FlashMask m = FlashMasks.slidingWindow(5, 7, 2, 1);
        DenseMask d = m.toDense();
        assertEquals(Shape.of(1, 1, 5, 7), d.shape());
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 7; j++) {
                assertEquals(m.allows(0, 0, i, j), d.allows(0, 0, i, j));
            }
        }
        float[] bias = d.toAdditiveBias();
        assertEquals(0f, bias[0 * 7 + 2]);
        assertEquals(Float.NEGATIVE_INFINITY, bias[0 * 7 + 6]);
    }

    @Test
    void repeatAndConcatenate() {
        FlashMask a = FlashMasks.causalDocument(4, 2, 2);
        FlashMask b = FlashMasks.causalDocument(4, 1, 3);
        FlashMask batch = FlashMask.concatBatch(List.of(a, b));
        assertEquals(Shape.of(2, 1, 4, 1), batch.shape());
        assertArrayEquals(new int[] {2, 2, 4, 4, 1, 4, 4, 4}, batch.data());
        FlashMask heads = FlashMask.concatHeads(List.of(a.repeatBatch(2), b.repeatBatch(2)));
        assertEquals(Shape.of(2, 2, 4, 1), heads.shape());
        for (int bt = 0; bt < 2; bt++) {
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    assertEquals(a.allows(0, 0, i, j), heads.allows(bt, 0, i, j));
                    assertEquals(b.allows(0, 0, i, j), heads.allows(bt, 1, i, j));
                }
            }
        }
        var e = assertThrows(InvalidRequestException.class,
                () -> FlashMask.concatBatch(List.of(a, FlashMasks.document(4, 4))));
        assertEquals("masks[1]", e.argument());
        assertThrows(InvalidRequestException.class, () -> batch.repeatBatch(2));
    }

    @Test
    void uploadsAsInt32WithItsShape() {
        TensorPort tensors = mock(TensorPort.class);
        DeviceTensor t = mock(DeviceTensor.class);
        when(tensors.uploadInts(any(), eq(Shape.of(1, 1, 3, 2)))).thenReturn(t);
        FlashMask m = FlashMasks.document(3, 1, 2);
        assertSame(t, m.upload(tensors));
        verify(tensors).uploadInts(m.data(), Shape.of(1, 1, 3, 2));

        when(tensors.uploadBools(any(), any())).thenReturn(t);
        when(tensors.upload(any(), any(), eq(DType.F32))).thenReturn(t);
        assertSame(t, m.toDense().upload(tensors));
        assertSame(t, m.toDense().uploadAsBias(tensors));
    }
}
