package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/** The table layout of docs/design.md §4, T5 buckets, KERPLE and Sandwich, pinned by hand-computed values. */
class RelativeBiasTest {

    @ParameterizedTest
    @CsvSource({"4, 4", "2, 6", "6, 2", "1, 1"})
    void tableIndexIsRelativePositionShiftedBySkMinusOne(int sq, int sk) {
        assertEquals(0, RelativeBiasTable.index(sq - 1, 0, sq, sk), "farthest key to the left");
        assertEquals(sq + sk - 2, RelativeBiasTable.index(0, sk - 1, sq, sk), "farthest key to the right");
        assertEquals(sk - 1, RelativeBiasTable.index(0, sk - sq, sq, sk) , "the diagonal (bottom-right aligned)");
        for (int i = 0; i < sq; i++) {
            for (int j = 0; j < sk; j++) {
                int r = RelativeBiasTable.index(i, j, sq, sk);
                assertEquals(j - (i + sk - sq), RelativeBiasTable.relative(r, sk));
            }
        }
        RelativeBias probe = new RelativeBias() {
            public int heads() { return 2; }
            public double bias(int head, int relative) { return 100 * head + relative; }
        };
        RelativeBiasTable t = RelativeBiasTable.of(probe, sq, sk);
        assertEquals(Shape.of(2, sq + sk - 1), t.shape());
        assertEquals(100 - (sk - 1), t.data()[sq + sk - 1], "head 1, index 0");
    }

    @Test
    void t5BidirectionalBucketsAsTheReference() {
        // num_buckets 32, max_distance 128: 16 buckets per direction, distances 0..7 exact, then
        // 8 + floor(8 · log(d/8) / log(16)), at most 15; keys to the right add 16.
        int[][] expected = {
                {0, 0}, {-1, 1}, {-7, 7}, {-8, 8}, {-11, 8}, {-12, 9}, {-15, 9}, {-16, 10}, {-31, 11}, {-32, 12},
                {-63, 13}, {-64, 14}, {-127, 15}, {-128, 15}, {-5000, 15},
                {1, 17}, {7, 23}, {8, 24}, {16, 26}, {64, 30}, {200, 31}};
        for (int[] e : expected) {
            assertEquals(e[1], T5RelativeBias.bucket(e[0], true, 32, 128), "relative position " + e[0]);
        }
    }

    @Test
    void t5CausalBucketsIgnoreKeysToTheRight() {
        // Decoder: 32 buckets one way, 16 exact, then 16 + floor(16 · log(d/16) / log(8)), at most 31.
        int[][] expected = {{5, 0}, {0, 0}, {-1, 1}, {-15, 15}, {-16, 16}, {-32, 21}, {-64, 26}, {-127, 31}, {-128, 31}};
        for (int[] e : expected) {
            assertEquals(e[1], T5RelativeBias.bucket(e[0], false, 32, 128), "relative position " + e[0]);
        }
    }

    @Test
    void t5BucketsAgreeWithTheFormulaAwayFromEdges() {
        for (int rel = -400; rel <= 400; rel++) {
            int n = Math.abs(rel);
            int expected = rel > 0 ? 16 : 0;
            if (n < 8) {
                expected += n;
            } else {
                double x = 8 + Math.log(n / 8.0) / Math.log(16) * 8;
                if (Math.abs(x - Math.rint(x)) < 1e-5) {
                    continue;   // an edge: pinned exactly above
                }
                expected += Math.min(15, (int) Math.floor(x));
            }
            assertEquals(expected, T5RelativeBias.bucket(rel, true, 32, 128), "relative position " + rel);
        }
    }

    @Test
    void t5TableReadsTheWeightOfEachBucketAndItsGradientIsTheAdjoint() {
        int heads = 3;
        Random random = new Random(11);
        float[] w = new float[8 * heads];
        for (int k = 0; k < w.length; k++) {
            w[k] = (float) random.nextGaussian();
        }
        T5RelativeBias t5 = new T5RelativeBias(heads, 8, 20, true, w);
        int sq = 9;
        int sk = 30;
        RelativeBiasTable t = RelativeBiasTable.of(t5, sq, sk);
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < sq; i++) {
                for (int j = 0; j < sk; j++) {
                    int bucket = T5RelativeBias.bucket(j - (i + sk - sq), true, 8, 20);
                    assertEquals(w[bucket * heads + h], t.bias(h, i, j));
                }
            }
        }
        // <dT, T(w)> = <weightGradient(dT), w> for the linear map w -> T.
        float[] dT = new float[heads * (sq + sk - 1)];
        for (int k = 0; k < dT.length; k++) {
            dT[k] = (float) random.nextGaussian();
        }
        float[] dW = t5.weightGradient(dT, sq, sk);
        double left = 0;
        float[] table = t.data();
        for (int k = 0; k < dT.length; k++) {
            left += (double) dT[k] * table[k];
        }
        double right = 0;
        for (int k = 0; k < w.length; k++) {
            right += (double) dW[k] * w[k];
        }
        assertEquals(left, right, 1e-4);
        assertTrue(Math.abs(left) > 1e-3, "a non-trivial check");
    }

    @Test
    void t5RejectsBadInput() {
        assertEquals("weights", assertThrows(InvalidRequestException.class,
                () -> new T5RelativeBias(2, 32, 128, true, new float[63])).argument());
        assertEquals("numBuckets", assertThrows(InvalidRequestException.class,
                () -> new T5RelativeBias(1, 2, 128, true, new float[2])).argument());
        assertEquals("maxDistance", assertThrows(InvalidRequestException.class,
                () -> T5RelativeBias.bucket(3, true, 32, 8)).argument());
        T5RelativeBias t5 = new T5RelativeBias(1, 32, 128, true, new float[32]);
        assertEquals("tableGradient", assertThrows(InvalidRequestException.class,
                () -> t5.weightGradient(new float[3], 2, 3)).argument());
    }

    @Test
    void kerpleLogForm() {
        Kerple kerple = Kerple.of(new float[] {2f, 0.5f}, new float[] {0.5f, 3f});
        assertEquals(-2 * Math.log(3), kerple.bias(0, -4), 1e-12);
        assertEquals(-2 * Math.log(3), kerple.bias(0, 4), 1e-12, "symmetric in the distance");
        assertEquals(0.0, kerple.bias(1, 0), 0.0);
        assertEquals(-0.5 * Math.log(31), kerple.bias(1, -10), 1e-12);
        RelativeBiasTable t = RelativeBiasTable.of(kerple, 2, 3);
        // off = 1: row 0 sits at key 1, so key 0 is one to the left.
        assertEquals((float) (-0.5 * Math.log(4)), t.bias(1, 0, 0), 1e-7);
        assertEquals("r2[1]", assertThrows(InvalidRequestException.class,
                () -> Kerple.of(new float[] {1, 1}, new float[] {1, 0})).argument());
        assertEquals("r2", assertThrows(InvalidRequestException.class,
                () -> Kerple.of(new float[] {1, 1}, new float[] {1})).argument());
    }

    @Test
    void sandwichIsTheShiftedInnerProductOfSinusoids() {
        // d' = 2: one term, k = 1: cos(r / 10000) - 1.
        Sandwich two = new Sandwich(2, new float[] {1f});
        assertEquals(Math.cos(1e-4) - 1, two.bias(0, 1), 1e-15);
        assertEquals(Math.cos(3e-4) - 1, two.bias(0, -3), 1e-15);
        // d' = 4: cos(r / 100) + cos(r / 10000) - 2.
        Sandwich four = new Sandwich(4, new float[] {1f, 0.5f});
        assertEquals(Math.cos(0.02) + Math.cos(2e-4) - 2, four.bias(0, 2), 1e-15);
        assertEquals(0.5 * (Math.cos(0.02) + Math.cos(2e-4) - 2), four.bias(1, -2), 1e-15);
        assertEquals(-2.0001333342e-4, four.bias(0, 2), 1e-14);
        Sandwich wide = Sandwich.of(2, 128);
        assertEquals(0.0, wide.bias(0, 0), 1e-12);
        for (int r = 1; r < 200; r++) {
            assertTrue(wide.bias(0, r) < 0, "below the diagonal's 0 at distance " + r);
        }
        assertEquals("dimension", assertThrows(InvalidRequestException.class, () -> Sandwich.of(1, 3)).argument());
    }

    @Test
    void sandwichCompressesHeadsAsAlibi() {
        // λ_h = H / (8 (h + 1)): for 8 heads 1, 1/2, ..., 1/8.
        Sandwich s = Sandwich.of(8, 64);
        float[] expected = {1f, 1 / 2f, 1 / 3f, 1 / 4f, 1 / 5f, 1 / 6f, 1 / 7f, 1 / 8f};
        for (int h = 0; h < 8; h++) {
            assertEquals(expected[h], s.headScales()[h], 1e-7);
            assertEquals(expected[h] * s.bias(0, 37), s.bias(h, 37), 1e-9);
        }
        assertEquals(4 / 8f, Sandwich.of(4, 64).headScales()[0], 1e-7);
    }

    @Test
    void tableUploadsAsF32() {
        TensorPort tensors = mock(TensorPort.class);
        DeviceTensor tensor = mock(DeviceTensor.class);
        when(tensors.upload(any(), eq(Shape.of(2, 4)), eq(DType.F32))).thenReturn(tensor);
        assertSame(tensor, RelativeBiasTable.of(Alibi.of(2), 2, 3).upload(tensors));
        when(tensors.upload(any(), eq(Shape.of(2)), eq(DType.F32))).thenReturn(tensor);
        assertSame(tensor, Alibi.of(2).upload(tensors));
    }
}
