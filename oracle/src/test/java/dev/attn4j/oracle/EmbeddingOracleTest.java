package dev.attn4j.oracle;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Look-up and scatter-add by hand: repeated ids sum, untouched rows keep their accumulator exactly. */
class EmbeddingOracleTest {

    @Test
    void lookUpAndScatterAddByHand() {
        double[] table = {1, 2, 3, 4, 5, 6};   // V = 3, D = 2
        int[] ids = {2, 0, 2};
        assertArrayEquals(new double[] {5, 6, 1, 2, 5, 6}, EmbeddingOracle.forward(table, 2, ids));
        double[] dy = {1, 1, 10, 10, 100, 100};
        double[] acc = {0.5, 0.5, 7, 7, 0, 0};
        assertArrayEquals(new double[] {10.5, 10.5, 7, 7, 101, 101}, EmbeddingOracle.backward(ids, dy, 2, acc, Precision.FP64));
    }
}
