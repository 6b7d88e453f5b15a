package dev.attn4j.domain.positional;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** ALiBi slopes pinned to the paper's reference values. */
class AlibiTest {

    private static final double EPS = 1e-12;

    @Test
    void eightHeadsAreHalvings() {
        assertArrayEquals(new double[] {1 / 2.0, 1 / 4.0, 1 / 8.0, 1 / 16.0, 1 / 32.0, 1 / 64.0, 1 / 128.0, 1 / 256.0},
                Alibi.slopes(8), EPS);
    }

    @Test
    void sixHeadsTakeFourThenEveryOtherOfEight() {
        assertArrayEquals(new double[] {1 / 4.0, 1 / 16.0, 1 / 64.0, 1 / 256.0, 1 / 2.0, 1 / 8.0}, Alibi.slopes(6), EPS);
    }

    @Test
    void twelveAndSixteenHeads() {
        double r = Math.sqrt(0.5);
        assertArrayEquals(new double[] {1 / 2.0, 1 / 4.0, 1 / 8.0, 1 / 16.0, 1 / 32.0, 1 / 64.0, 1 / 128.0, 1 / 256.0,
                r, r / 2, r / 4, r / 8}, Alibi.slopes(12), EPS);
        double[] sixteen = Alibi.slopes(16);
        for (int k = 0; k < 16; k++) {
            assertEquals(Math.pow(2, -0.5 * (k + 1)), sixteen[k], EPS);
        }
        assertArrayEquals(new double[] {1 / 256.0}, Alibi.slopes(1), EPS);
        assertArrayEquals(new double[] {1 / 16.0, 1 / 256.0, 1 / 4.0}, Alibi.slopes(3), EPS);
    }

    @Test
    void onlyTheFirstAlibiHeadsAreBiased() {
        assertArrayEquals(new float[] {1 / 4f, 1 / 16f, 1 / 64f, 1 / 256f, 0, 0, 0, 0}, Alibi.of(8, 4).slopes());
        assertArrayEquals(new float[] {0, 0}, Alibi.of(2, 0).slopes());
        assertArrayEquals(new float[] {1 / 4f, 1 / 16f, 1 / 64f, 1 / 256f, 1 / 2f, 1 / 8f}, Alibi.of(6).slopes());
    }

    @Test
    void tableHoldsTheLinearBiasOfDesign4() {
        Alibi alibi = Alibi.of(3, 2);
        int sq = 3;
        int sk = 5;
        RelativeBiasTable t = RelativeBiasTable.of(alibi, sq, sk);
        for (int h = 0; h < 3; h++) {
            for (int i = 0; i < sq; i++) {
                for (int j = 0; j < sk; j++) {
                    assertEquals(-alibi.slopes()[h] * Math.abs(i + (sk - sq) - j), t.bias(h, i, j), 1e-7);
                }
            }
        }
        // Hand values: slopes 1/16, 1/256, 0; off = 2, so row 0 sits at key 2 and row 2 at key 4.
        assertEquals(-0.125f, t.bias(0, 0, 0));
        assertEquals(-0.25f, t.data()[0], "index 0: the farthest key to the left (row 2, key 0)");
        assertEquals(-2 / 256f, t.data()[7 + 6], "head 1, index 6: row 0, key 4 (two to the right)");
        assertEquals(0f, t.bias(2, 0, 0));
    }

    @Test
    void rejectsBadInput() {
        assertEquals("heads", assertThrows(InvalidRequestException.class, () -> Alibi.of(0)).argument());
        assertEquals("alibiHeads", assertThrows(InvalidRequestException.class, () -> Alibi.of(4, 5)).argument());
        assertEquals("slopes[1]", assertThrows(InvalidRequestException.class,
                () -> new Alibi(new float[] {1, -1})).argument());
    }
}
