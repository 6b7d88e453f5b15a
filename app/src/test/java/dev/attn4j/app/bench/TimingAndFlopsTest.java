package dev.attn4j.app.bench;

import dev.attn4j.ports.attention.AttentionShape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TimingAndFlopsTest {

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(new Timing(2.1, 2.0, 9.0, 3), Timing.of(new double[]{9.0, 2.0, 2.1}));
        assertEquals(new Timing(2.5, 1.0, 4.0, 4), Timing.of(new double[]{4.0, 1.0, 3.0, 2.0}));
        assertEquals(1.2, Timing.of(new double[]{4.0, 1.0, 3.0, 2.0}).spread(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Timing.of(new double[0]));
    }

    @Test
    void flashAttentionFlopCount() {
        AttentionShape s = new AttentionShape(2, 1024, 2048, 16, 4, 128);
        double forward = 4.0 * 2 * 16 * 1024 * 2048 * 128;
        assertEquals(forward, Flops.attention(s, false, false));
        assertEquals(forward / 2, Flops.attention(s, true, false));
        assertEquals(2.5 * forward, Flops.attention(s, false, true));
        assertEquals(1.25 * forward, Flops.attention(s, true, true));
    }
}
