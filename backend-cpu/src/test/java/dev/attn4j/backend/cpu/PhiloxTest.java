package dev.attn4j.backend.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random123's known-answer vectors for philox4x32-10, and the keep rule. */
class PhiloxTest {

    @Test
    void knownAnswers() {
        int[] out = new int[4];
        Philox.round(out, 0, 0, 0, 0, 0, 0);
        assertArrayEquals(new int[]{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, out);
        Philox.round(out, -1, -1, -1, -1, -1, -1);
        assertArrayEquals(new int[]{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, out);
        Philox.round(out, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0);
        assertArrayEquals(new int[]{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}, out);
    }

    @Test
    void keepRuleFollowsTheTopTwentyFourBits() {
        // seed 0, offset 0: block 0 is the first known answer; word 0 = 0x6627e8d5 -> u = 0x6627e8 / 2^24 = 0.3990...
        Philox p40 = new Philox(0, 0, 0.40);
        Philox p39 = new Philox(0, 0, 0.39);
        assertFalse(p40.keep(0), "u = 0.399 < 0.40 drops");
        assertTrue(p39.keep(0), "u = 0.399 >= 0.39 keeps");
        assertTrue(new Philox(0, 0, 0.0).keep(3), "p = 0 keeps everything");
        assertEquals(0x6627e8 / (double) (1 << 24), 0.39904, 1e-5);
    }
}
