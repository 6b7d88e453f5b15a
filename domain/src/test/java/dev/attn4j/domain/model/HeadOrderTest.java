package dev.attn4j.domain.model;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class HeadOrderTest {

    @Test
    void attn4jHeadUsesTheKvHeadXTransformersPairsItsReferenceHeadWith() {
        HeadOrder order = new HeadOrder(8, 2);
        for (int a = 0; a < 8; a++) {
            int h = order.reference(a);
            // attn4j: KV head a / (H / G); x-transformers: KV head h mod G
            assertEquals(a / 4, h % 2, "head " + a);
        }
        int[] seen = new int[8];
        for (int a = 0; a < 8; a++) {
            seen[order.reference(a)]++;
        }
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 1}, seen, "a permutation");
    }

    @Test
    void oneKvHeadOrAsManyAsQueriesNeedsNoPermutation() {
        float[] w = {1, 2, 3, 4};
        assertSame(w, new HeadOrder(4, 1).permuteRows(w, 1, 1, false));
        assertSame(w, new HeadOrder(4, 4).permuteColumns(w, 1, true));
    }

    @Test
    void rowAndColumnPermutationsAreInverseAndMoveWholeHeads() {
        HeadOrder order = new HeadOrder(4, 2);   // reference heads of attn4j heads 0..3: 0, 2, 1, 3
        int dimHead = 2;
        int cols = 3;
        float[] reference = new float[4 * dimHead * cols];
        for (int i = 0; i < reference.length; i++) {
            reference[i] = i;
        }
        float[] ours = order.permuteRows(reference, dimHead, cols, false);
        // attn4j head 1 holds reference head 2's rows
        assertArrayEquals(Arrays.copyOfRange(reference, 2 * dimHead * cols, 3 * dimHead * cols),
                Arrays.copyOfRange(ours, dimHead * cols, 2 * dimHead * cols));
        assertArrayEquals(reference, order.permuteRows(ours, dimHead, cols, true));
        float[] out = order.permuteColumnBlocks(reference, cols * 2 / 2, dimHead * 2 / 2, false);
        assertArrayEquals(reference, order.permuteColumnBlocks(out, cols, dimHead, true));
    }
}
