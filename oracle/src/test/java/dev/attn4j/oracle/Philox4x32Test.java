package dev.attn4j.oracle;

import dev.attn4j.ports.attention.Dropout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Philox4x32-10 against the Random123 known-answer vectors, and the dropout counter mapping of the ports docs. */
class Philox4x32Test {

    @Test
    void zeroCounterAndKey() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                Philox4x32.generate(new int[] {0, 0, 0, 0}, new int[] {0, 0}));
    }

    @Test
    void allOnesCounterAndKey() {
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                Philox4x32.generate(new int[] {-1, -1, -1, -1}, new int[] {-1, -1}));
    }

    @Test
    void piDigitsVector() {
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                Philox4x32.generate(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                        new int[] {0xa4093822, 0x299f31d0}));
    }

    @Test
    void dropoutUniformTakesWordNMod4OfBlockNDiv4WithSeedAsKeyAndOffsetInTheHighCounterWords() {
        long seed = 0x1234_5678_9ABC_DEF0L;
        long offset = 0x0000_0007_0000_0003L;
        Dropout dropout = new Dropout(0.5, seed, offset);
        AttentionDims d = new AttentionDims(2, 3, 5, 2, 1, 4);
        int b = 1, h = 1, i = 2, j = 3;
        long n = ((long) (b * 2 + h) * 3 + i) * 5 + j; // 58
        int[] words = Philox4x32.generate(new int[] {(int) (n >>> 2), 0, 3, 7}, new int[] {0x9ABCDEF0, 0x12345678});
        double expected = (words[(int) (n & 3)] >>> 8) / 16777216.0;
        assertEquals(expected, DropoutBits.uniform(dropout, d, b, h, i, j));
        assertEquals(expected >= 0.5, DropoutBits.kept(dropout, d, b, h, i, j));
    }

    @Test
    void keptFractionIsOneMinusP() {
        Dropout dropout = new Dropout(0.25, 42L, 0L);
        AttentionDims d = new AttentionDims(1, 64, 64, 4, 4, 8);
        int kept = 0;
        for (int h = 0; h < 4; h++) {
            for (int i = 0; i < 64; i++) {
                for (int j = 0; j < 64; j++) {
                    double u = DropoutBits.uniform(dropout, d, 0, h, i, j);
                    assertTrue(u >= 0 && u < 1);
                    kept += DropoutBits.kept(dropout, d, 0, h, i, j) ? 1 : 0;
                }
            }
        }
        // 16384 Bernoulli(0.75) draws: mean 12288, sd 55; 6 sd either side.
        assertEquals(12288, kept, 330);
    }

    @Test
    void noDropoutKeepsEverything() {
        assertTrue(DropoutBits.kept(Dropout.NONE, new AttentionDims(1, 1, 1, 1, 1, 1), 0, 0, 0, 0));
    }
}
