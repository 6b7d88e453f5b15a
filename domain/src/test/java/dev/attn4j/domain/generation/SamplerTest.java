package dev.attn4j.domain.generation;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static final float[] LOGITS = {0.1f, 3.0f, 2.5f, -1f, 2.9f};

    @Test
    void greedyPicksTheLargest() {
        assertEquals(1, new Sampler(Sampling.greedy()).next(LOGITS));
    }

    @Test
    void topKRestrictsToTheKLargest() {
        Sampler s = new Sampler(new Sampling(1.0, 2, 1.0, 7L));
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            seen.add(s.next(LOGITS));
        }
        assertEquals(Set.of(1, 4), seen);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // softmax of {3.0, 2.9} carries well over half the mass: p = 0.5 keeps the first only
        Sampler s = new Sampler(new Sampling(1.0, 0, 0.3, 3L));
        for (int i = 0; i < 200; i++) {
            assertEquals(1, s.next(LOGITS));
        }
    }

    @Test
    void sameSeedSameDraws() {
        Sampler a = new Sampler(new Sampling(1.3, 0, 0.95, 11L));
        Sampler b = new Sampler(new Sampling(1.3, 0, 0.95, 11L));
        for (int i = 0; i < 100; i++) {
            assertEquals(a.next(LOGITS), b.next(LOGITS));
        }
    }

    @Test
    void frequenciesFollowTheSoftmax() {
        Sampler s = new Sampler(new Sampling(1.0, 0, 1.0, 5L));
        int[] counts = new int[LOGITS.length];
        int n = 200_000;
        for (int i = 0; i < n; i++) {
            counts[s.next(LOGITS)]++;
        }
        double z = 0;
        for (float l : LOGITS) {
            z += Math.exp(l);
        }
        for (int i = 0; i < LOGITS.length; i++) {
            double p = Math.exp(LOGITS[i]) / z;
            double sd = Math.sqrt(p * (1 - p) / n);
            assertTrue(Math.abs(counts[i] / (double) n - p) < 5 * sd + 1e-4, "token " + i);
        }
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(InvalidRequestException.class, () -> new Sampling(-1, 0, 1, 0));
        assertThrows(InvalidRequestException.class, () -> new Sampling(1, -1, 1, 0));
        assertThrows(InvalidRequestException.class, () -> new Sampling(1, 0, 0, 0));
    }
}
