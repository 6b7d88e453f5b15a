package dev.attn4j.oracle;

import dev.attn4j.ports.attention.Dropout;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The oracle's forward on cases worked out by hand from docs/design.md §4. */
class AttentionOracleSemanticsTest {

    @Test
    void softmaxWeightsValuesAndLseIsLogSumExp() {
        // s = [0, ln 2] -> p = [1/3, 2/3]; o = 3/3 + 2*6/3 = 5; lse = ln 3.
        AttentionDims d = new AttentionDims(1, 1, 2, 1, 1, 1);
        AttentionProblem p = AttentionProblem.plain(d, new double[] {1}, new double[] {0, Math.log(2)},
                new double[] {3, 6}, 1.0, false);
        AttentionOutputs out = AttentionOracle.forward(p, Precision.FP64);
        assertEquals(5.0, out.o()[0], 1e-14);
        assertEquals(Math.log(3), out.lse()[0], 1e-15);
    }

    @Test
    void causalIsBottomRightAligned() {
        // Sq = 2, Sk = 4: off = 2, row 0 sees keys 0..2, row 1 sees 0..3.
        AttentionProblem p = AttentionProblem.plain(new AttentionDims(1, 2, 4, 1, 1, 1), new double[2], new double[4],
                new double[] {1, 2, 3, 4}, 1.0, true);
        AttentionOutputs out = AttentionOracle.forward(p, Precision.FP64);
        assertEquals(2.0, out.o()[0], 1e-15);   // mean of 1, 2, 3
        assertEquals(2.5, out.o()[1], 1e-15);   // mean of 1..4
        assertEquals(Math.log(3), out.lse()[0], 1e-15);
    }

    @Test
    void alibiSubtractsSlopeTimesDistanceAndTableAddsAtItsRelativeColumn() {
        AttentionDims d = new AttentionDims(1, 2, 3, 1, 1, 1);
        double[] table = new double[d.tableWidth()]; // [H, Sq + Sk - 1] = 4 columns
        table[0] = 7; // column 0: j - (i + off) = -(Sk - 1) = -2, only (i = 1, j = 0)
        AttentionProblem p = new AttentionProblem(d, new double[2], new double[3], new double[] {0, 0, 0}, 1.0, false,
                -1, -1, 0, new double[] {0.5}, table, null, null, null, Dropout.NONE);
        // Row 1 (i + off = 2): scores = [-0.5*2 + 7, -0.5*1, 0] -> lse = log(e^6 + e^-0.5 + 1).
        AttentionOutputs out = AttentionOracle.forward(p, Precision.FP64);
        assertEquals(Math.log(Math.exp(6) + Math.exp(-0.5) + 1), out.lse()[1], 1e-14);
        // Row 0 (i + off = 1): scores = [-0.5, 0, -0.5].
        assertEquals(Math.log(2 * Math.exp(-0.5) + 1), out.lse()[0], 1e-14);
    }

    @Test
    void softcapIsCTanhOfScoreOverC() {
        AttentionProblem p = new AttentionProblem(new AttentionDims(1, 1, 2, 1, 1, 1), new double[] {1},
                new double[] {10, 0}, new double[] {1, 0}, 1.0, false, -1, -1, 2.0, null, null, null, null, null,
                Dropout.NONE);
        double s0 = 2 * Math.tanh(5);
        assertEquals(Math.log(Math.exp(s0) + 1), AttentionOracle.forward(p, Precision.FP64).lse()[0], 1e-14);
    }

    @Test
    void windowKeepsKeysWithinLeftAndRightOfTheDiagonal() {
        AttentionProblem p = new AttentionProblem(new AttentionDims(1, 3, 5, 1, 1, 1), new double[3], new double[5],
                new double[5], 1.0, false, 1, 0, 0, null, null, null, null, null, Dropout.NONE);
        // off = 2: row i keeps j in [i + 1, i + 2].
        assertEquals(List.of(1, 2), allowed(p, 0));
        assertEquals(List.of(3, 4), allowed(p, 2));
    }

    @Test
    void flashMaskReadsEachFormAsDesignSays() {
        AttentionDims d = new AttentionDims(1, 4, 2, 1, 1, 1);
        // causal n=1 [LTS]: column 0 LTS = 2 masks rows >= 2; column 1 LTS = 9 acts as 4: none.
        assertEquals(List.of(2, 3), maskedRows(d, new FlashMaskIndices(1, 1, new int[] {2, 9}), true, 0));
        assertEquals(List.of(), maskedRows(d, new FlashMaskIndices(1, 1, new int[] {2, 9}), true, 1));
        // causal n=2 [LTS, LTE]: rows in [1, 3).
        assertEquals(List.of(1, 2), maskedRows(d, new FlashMaskIndices(1, 2, new int[] {1, 3, 5, 6}), true, 0));
        // non-causal n=2 [LTS, UTE]: rows >= 3 or < 1.
        assertEquals(List.of(0, 3), maskedRows(d, new FlashMaskIndices(1, 2, new int[] {3, 1, 0, 0}), false, 0));
        // non-causal n=4 [LTS, LTE, UTS, UTE]: [0, 1) and [2, 9 -> 4).
        assertEquals(List.of(0, 2, 3), maskedRows(d, new FlashMaskIndices(1, 4, new int[] {0, 1, 2, 9, 0, 0, 0, 0}), false, 0));
        assertThrows(IllegalArgumentException.class, () -> new FlashMaskIndices(1, 1, new int[] {-1, 0}));
        assertThrows(IllegalArgumentException.class, () -> new FlashMaskIndices(1, 3, new int[] {0, 0, 0}));
    }

    @Test
    void flashMaskHeadsAreSharedByGroupsOfQueryHeads() {
        AttentionDims d = new AttentionDims(1, 2, 1, 4, 1, 1);
        FlashMaskIndices m = new FlashMaskIndices(2, 1, new int[] {0, 2}); // head 0 masks all rows, head 1 none
        assertEquals(true, m.masks(d, true, 0, 1, 0, 0));   // query head 1 -> mask head 0
        assertEquals(false, m.masks(d, true, 0, 2, 0, 0));  // query head 2 -> mask head 1
    }

    @Test
    void dropoutScalesKeptProbabilitiesButNotLse() {
        AttentionDims d = new AttentionDims(1, 1, 8, 1, 1, 1);
        double[] v = {1, 2, 3, 4, 5, 6, 7, 8};
        Dropout dropout = new Dropout(0.5, 7L, 0L);
        AttentionProblem p = new AttentionProblem(d, new double[1], new double[8], v, 1.0, false, -1, -1, 0, null, null,
                null, null, null, dropout);
        double expected = 0;
        for (int j = 0; j < 8; j++) {
            expected += DropoutBits.kept(dropout, d, 0, 0, 0, j) ? v[j] / 8 / 0.5 : 0;
        }
        AttentionOutputs out = AttentionOracle.forward(p, Precision.FP64);
        assertEquals(expected, out.o()[0], 1e-14);
        assertEquals(Math.log(8), out.lse()[0], 1e-15);
    }

    @Test
    void reducedPrecisionStaysCloseToGoldenAndDiffersFromIt() {
        Random r = new Random(3);
        AttentionDims d = new AttentionDims(1, 20, 30, 2, 1, 16);
        AttentionProblem p = AttentionProblem.plain(d, FiniteDifferences.gaussian(r, d.querySize()),
                FiniteDifferences.gaussian(r, d.keySize()), FiniteDifferences.gaussian(r, d.keySize()), 0.25, true);
        double[] golden = AttentionOracle.forward(p, Precision.FP64).o();
        double[] fp32 = AttentionOracle.forward(p, Precision.FP32).o();
        double[] bf16 = AttentionOracle.forward(p, Precision.BF16).o();
        double e32 = maxDiff(golden, fp32);
        double e16 = maxDiff(golden, bf16);
        assertEquals(true, e32 > 0 && e32 < 1e-5, "fp32 error " + e32);
        assertEquals(true, e16 > 1e-4 && e16 < 5e-2, "bf16 error " + e16);
    }

    private static double maxDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static List<Integer> allowed(AttentionProblem p, int i) {
        List<Integer> js = new ArrayList<>();
        for (int j = 0; j < p.dims().seqK(); j++) {
            if (!p.masked(0, 0, i, j)) js.add(j);
        }
        return js;
    }

    private static List<Integer> maskedRows(AttentionDims d, FlashMaskIndices m, boolean causal, int j) {
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < d.seqQ(); i++) {
            if (m.masks(d, causal, 0, 0, i, j)) rows.add(i);
        }
        return rows;
    }
}
