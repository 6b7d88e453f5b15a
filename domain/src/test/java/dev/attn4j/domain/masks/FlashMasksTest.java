package dev.attn4j.domain.masks;

import dev.attn4j.ports.InvalidRequestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Each builder against the kind's definition written here as a plain (i, j) rule, independently of the
 * column encoding; and against the examples published with Paddle's {@code flashmask_attention} docs.
 */
class FlashMasksTest {

    /** Asserts that {@code mask}, read per docs/design.md §4, allows exactly what {@code rule} allows. */
    private static void assertMask(DenseMask.Rule rule, FlashMask mask) {
        for (int b = 0; b < mask.batch(); b++) {
            for (int h = 0; h < mask.heads(); h++) {
                for (int i = 0; i < mask.seqQ(); i++) {
                    for (int j = 0; j < mask.seqK(); j++) {
                        if (rule.allows(b, h, i, j) != mask.allows(b, h, i, j)) {
                            fail("(b=" + b + ", h=" + h + ", i=" + i + ", j=" + j + "): expected "
                                    + (rule.allows(b, h, i, j) ? "allowed" : "masked") + " in " + mask + " "
                                    + Arrays.toString(mask.data()));
                        }
                    }
                }
            }
        }
        assertEquals(DenseMask.of(mask.batch(), mask.heads(), mask.seqQ(), mask.seqK(), rule), mask.toDense());
    }

    /** Segment index of position p for segments of the given lengths, -1 past the last one. */
    private static int segment(int p, int... lengths) {
        int end = 0;
        for (int s = 0; s < lengths.length; s++) {
            end += lengths[s];
            if (p < end) {
                return s;
            }
        }
        return -1;
    }

    private static int start(int segment, int... lengths) {
        int at = 0;
        for (int s = 0; s < segment; s++) {
            at += lengths[s];
        }
        return at;
    }

    private static FlashMask fromColumns(boolean causal, int seqLen, int[]... values) {
        int n = values.length;
        int[] data = new int[seqLen * n];
        for (int j = 0; j < seqLen; j++) {
            for (int c = 0; c < n; c++) {
                data[j * n + c] = values[c][j];
            }
        }
        return new FlashMask(data, 1, 1, seqLen, seqLen, n, causal);
    }

    @ParameterizedTest
    @CsvSource({"1, 1", "3, 8", "8, 3"})
    void full(int sq, int sk) {
        FlashMask m = FlashMasks.full(sq, sk);
        assertFalse(m.causal());
        assertMask((b, h, i, j) -> true, m);
    }

    @ParameterizedTest
    @CsvSource({"1, 1", "5, 5", "3, 8", "8, 3"})
    void causal(int sq, int sk) {
        FlashMask m = FlashMasks.causal(sq, sk);
        assertTrue(m.causal());
        assertMask((b, h, i, j) -> j <= i + (sk - sq), m);
    }

    @ParameterizedTest
    @CsvSource({"9, 9, 0", "9, 9, 2", "9, 9, 20", "4, 9, 3", "9, 4, 1"})
    void causalSlidingWindowKeepsLeftKeysAndTheDiagonal(int sq, int sk, int left) {
        FlashMask m = FlashMasks.slidingWindow(sq, sk, left);
        assertTrue(m.causal());
        int off = sk - sq;
        assertMask((b, h, i, j) -> j <= i + off && j >= i + off - left, m);
    }

    @ParameterizedTest
    @CsvSource({"9, 9, 0, 0", "9, 9, 2, 3", "4, 9, 1, 2", "9, 4, 2, 0", "6, 6, 10, 10"})
    void bidirectionalSlidingWindowAsTheWindowOption(int sq, int sk, int left, int right) {
        FlashMask m = FlashMasks.slidingWindow(sq, sk, left, right);
        assertFalse(m.causal());
        int off = sk - sq;
        assertMask((b, h, i, j) -> j >= i + off - left && j <= i + off + right, m);
    }

    @Test
    void causalDocument() {
        int[] docs = {3, 1, 4};
        FlashMask m = FlashMasks.causalDocument(10, docs);   // 2 padding positions
        assertTrue(m.causal());
        assertMask((b, h, i, j) -> j <= i && segment(i, docs) == segment(j, docs) && segment(j, docs) >= 0, m);
    }

    @Test
    void causalDocumentAsPublished() {
        // Paddle flashmask_attention docs, figure (b): documents of 4, 3, 3 tokens.
        assertArrayEquals(new int[] {4, 4, 4, 4, 7, 7, 7, 10, 10, 10}, FlashMasks.causalDocument(10, 4, 3, 3).data());
    }

    @Test
    void document() {
        int[] docs = {2, 3, 1};
        FlashMask m = FlashMasks.document(8, docs);
        assertFalse(m.causal());
        assertMask((b, h, i, j) -> segment(i, docs) == segment(j, docs) && segment(j, docs) >= 0, m);
    }

    @Test
    void documentAsPublished() {
        // Paddle docs, figure (f): bidirectional documents of 4, 3, 3 tokens, [LTS, UTE] per column.
        FlashMask published = fromColumns(false, 10, new int[] {4, 4, 4, 4, 7, 7, 7, 10, 10, 10},
                new int[] {0, 0, 0, 0, 4, 4, 4, 7, 7, 7});
        assertEquals(published, FlashMasks.document(10, 4, 3, 3));
    }

    @Test
    void sharedQuestion() {
        int[][] samples = {{3, 2, 2}, {2, 1, 3}};
        int total = 13;
        int seqLen = 15;
        int[] sampleLengths = {7, 6};
        FlashMask m = FlashMasks.sharedQuestion(seqLen, samples);
        assertTrue(m.causal());
        assertMask((b, h, i, j) -> {
            if (j > i || j >= total || i >= total) {
                return false;
            }
            int si = segment(i, sampleLengths);
            int sj = segment(j, sampleLengths);
            if (si != sj) {
                return false;
            }
            int base = start(si, sampleLengths);
            int pi = segment(i - base, samples[si]);
            int pj = segment(j - base, samples[sj]);
            return pj == 0 || pi == pj;
        }, m);
    }

    @Test
    void sharedQuestionAsPublished() {
        // Paddle docs, figure (c): a question of 4 tokens and two answers of 3.
        assertArrayEquals(new int[] {10, 10, 10, 10, 7, 7, 7, 10, 10, 10},
                FlashMasks.sharedQuestion(10, new int[] {4, 3, 3}).data());
    }

    @ParameterizedTest
    @CsvSource({"12, 2, 1, 2", "12, 0, 2, 2", "12, 3, 0, 0", "12, 12, 1, 1", "10, 1, 20, 0"})
    void globalSlidingWindow(int seqLen, int global, int left, int right) {
        FlashMask m = FlashMasks.globalSlidingWindow(seqLen, global, left, right);
        assertFalse(m.causal());
        assertEquals(4, m.n());
        assertMask((b, h, i, j) -> i < global || j < global || (j >= i - left && j <= i + right), m);
    }

    @Test
    void causalBlockwise() {
        int[] blocks = {3, 2, 4};
        FlashMask m = FlashMasks.causalBlockwise(9, blocks);
        assertTrue(m.causal());
        assertMask((b, h, i, j) -> j <= i
                && (segment(i, blocks) == segment(j, blocks) || segment(i, blocks) == blocks.length - 1), m);
    }

    @Test
    void causalBlockwiseAsPublished() {
        // Paddle docs, figure (e): blocks of 4, 3, 3 tokens, [LTS, LTE] per column.
        FlashMask published = fromColumns(true, 10, new int[] {4, 4, 4, 4, 10, 10, 10, 10, 10, 10},
                new int[] {7, 7, 7, 7, 10, 10, 10, 10, 10, 10});
        assertEquals(published.toDense(), FlashMasks.causalBlockwise(10, 4, 3, 3).toDense());
    }

    @ParameterizedTest
    @CsvSource({"7, 0", "7, 3", "7, 7"})
    void prefixLm(int seqLen, int prefix) {
        FlashMask m = FlashMasks.prefixLm(seqLen, prefix);
        assertFalse(m.causal());
        assertMask((b, h, i, j) -> j < prefix || j <= i, m);
    }

    @Test
    void prefixDocument() {
        int[] docs = {4, 3, 2};
        int[] prefixes = {2, 0, 2};
        FlashMask m = FlashMasks.prefixDocument(11, docs, prefixes);
        assertFalse(m.causal());
        assertMask((b, h, i, j) -> {
            int d = segment(j, docs);
            return d >= 0 && d == segment(i, docs) && (j < start(d, docs) + prefixes[d] || j <= i);
        }, m);
    }

    @Test
    void qkSparse() {
        int[] starts = {2, 6};
        int[] lengths = {3, 2};
        FlashMask m = FlashMasks.qkSparse(10, starts, lengths);
        assertTrue(m.causal());
        assertMask((b, h, i, j) -> {
            for (int k = 0; k < starts.length; k++) {
                boolean iIn = i >= starts[k] && i < starts[k] + lengths[k];
                boolean jIn = j >= starts[k] && j < starts[k] + lengths[k];
                if (iIn && jIn) {
                    return false;
                }
            }
            return j <= i;
        }, m);
    }

    @Test
    void evictionAsPublished() {
        // Paddle docs, figure (h): a causal mask where key j is evicted from row evict[j] on.
        int[] evict = {10, 4, 8, 6, 10, 7, 10, 9, 10, 10};
        FlashMask m = FlashMasks.eviction(evict);
        assertArrayEquals(evict, m.data());
        assertMask((b, h, i, j) -> j <= i && i < evict[j], m);
    }

    @ParameterizedTest
    @CsvSource({"20, 5, 1", "20, 5, 2", "16, 1, 3", "16, 16, 4", "64, 8, 5"})
    void randomEvictionKeepsACacheOfFixedSize(int seqLen, int cache, long seed) {
        FlashMask m = FlashMasks.randomEviction(seqLen, cache, seed);
        assertTrue(m.causal());
        assertEquals(m, FlashMasks.randomEviction(seqLen, cache, seed), "same seed, same mask");
        int[] evict = m.data();
        for (int j = 0; j < seqLen; j++) {
            assertTrue(evict[j] > j && evict[j] <= seqLen);
        }
        for (int i = 0; i < seqLen; i++) {
            int seen = 0;
            for (int j = 0; j < seqLen; j++) {
                seen += m.allows(0, 0, i, j) ? 1 : 0;
            }
            assertEquals(Math.min(i + 1, cache), seen, "keys seen by row " + i);
            assertTrue(m.allows(0, 0, i, i), "a row sees its own key");
        }
        for (int row = cache; row < seqLen; row++) {
            int r = row;
            assertEquals(1, Arrays.stream(evict).filter(e -> e == r).count(), "one eviction at row " + row);
        }
    }

    @Test
    void randomEvictionDependsOnTheSeed() {
        assertNotEquals(FlashMasks.randomEviction(64, 8, 1), FlashMasks.randomEviction(64, 8, 2));
    }

    @ParameterizedTest
    @CsvSource({"true, 4, 6", "false, 4, 6", "true, 6, 6", "false, 7, 3"})
    void keyPadding(boolean causal, int sq, int sk) {
        int[] lengths = {sk, 0, sk / 2, 1};
        FlashMask m = FlashMasks.keyPadding(sq, sk, lengths, causal);
        assertEquals(4, m.batch());
        assertEquals(causal, m.causal());
        assertMask((b, h, i, j) -> j < lengths[b] && (!causal || j <= i + (sk - sq)), m);
    }

    @Test
    void packedSelfAttentionIsTheCausalForm() {
        int[] lengths = {3, 0, 4, 2};
        int[] cu = FlashMasks.cuSeqlens(lengths);
        assertArrayEquals(new int[] {0, 3, 3, 7, 9}, cu);
        FlashMask causal = FlashMasks.packed(cu, 11, true);
        assertTrue(causal.causal());
        assertEquals(1, causal.n());
        assertMask((b, h, i, j) -> j <= i && segment(i, lengths) == segment(j, lengths) && segment(j, lengths) >= 0,
                causal);
        FlashMask full = FlashMasks.packed(cu, 11, false);
        assertFalse(full.causal());
        assertMask((b, h, i, j) -> segment(i, lengths) == segment(j, lengths) && segment(j, lengths) >= 0, full);
    }

    @ParameterizedTest
    @CsvSource({"true", "false"})
    void packedWithDifferentQueryAndKeySegmentsAlignsEachSegmentBottomRight(boolean causal) {
        int[] lq = {2, 4, 1, 3};
        int[] lk = {5, 2, 1, 3};
        FlashMask m = FlashMasks.packed(FlashMasks.cuSeqlens(lq), FlashMasks.cuSeqlens(lk), 11, 12, causal);
        assertFalse(m.causal(), "per-segment alignment needs the non-causal form");
        assertMask((b, h, i, j) -> {
            int d = segment(i, lq);
            if (d < 0 || d != segment(j, lk)) {
                return false;
            }
            int li = i - start(d, lq);
            int lj = j - start(d, lk);
            return !causal || lj <= li + (lk[d] - lq[d]);
        }, m);
    }

    @Test
    void buildersStayLinearInTheSequenceLength() {
        int s = 1 << 20;   // a dense mask would need 2^40 entries
        assertEquals(s, FlashMasks.causalDocument(s, s / 2, s / 4).data().length);
        assertEquals(4L * s, FlashMasks.globalSlidingWindow(s, 64, 512, 512).data().length);
        assertEquals(2L * s, FlashMasks.packed(FlashMasks.cuSeqlens(s / 3, s / 3), s, false).data().length);
        assertEquals(s, FlashMasks.randomEviction(s, 4096, 7).data().length);
        assertThrows(InvalidRequestException.class, () -> FlashMasks.causal(s, s).toDense());
    }

    @Test
    void rejectsBadInputNamingTheArgument() {
        assertArgument("seqLen", () -> FlashMasks.causalDocument(0, 1));
        assertArgument("docLengths[1]", () -> FlashMasks.causalDocument(8, 3, 0));
        assertArgument("docLengths", () -> FlashMasks.document(8, 5, 4));
        assertArgument("left", () -> FlashMasks.slidingWindow(4, 4, -1));
        assertArgument("right", () -> FlashMasks.slidingWindow(4, 4, 1, -2));
        assertArgument("samples[0]", () -> FlashMasks.sharedQuestion(8, new int[] {4}));
        assertArgument("samples", () -> FlashMasks.sharedQuestion(8, new int[] {4, 3}, new int[] {1, 1}));
        assertArgument("globalTokens", () -> FlashMasks.globalSlidingWindow(8, 9, 1, 1));
        assertArgument("blockLengths", () -> FlashMasks.causalBlockwise(8, 3, 3));
        assertArgument("prefixLength", () -> FlashMasks.prefixLm(8, 9));
        assertArgument("prefixLengths", () -> FlashMasks.prefixDocument(8, new int[] {4, 4}, new int[] {1}));
        assertArgument("prefixLengths[1]", () -> FlashMasks.prefixDocument(8, new int[] {4, 4}, new int[] {1, 5}));
        assertArgument("spanStarts[1]", () -> FlashMasks.qkSparse(10, new int[] {2, 3}, new int[] {2, 2}));
        assertArgument("spanLengths[0]", () -> FlashMasks.qkSparse(10, new int[] {8}, new int[] {3}));
        assertArgument("evictRows[2]", () -> FlashMasks.eviction(4, 4, 2, 4));
        assertArgument("cacheSize", () -> FlashMasks.randomEviction(8, 0, 1));
        assertArgument("keyLengths[1]", () -> FlashMasks.keyPadding(4, 4, new int[] {4, 5}, true));
        assertArgument("cuSeqlensQ[0]", () -> FlashMasks.packed(new int[] {1, 4}, 8, true));
        assertArgument("cuSeqlensQ[2]", () -> FlashMasks.packed(new int[] {0, 4, 3}, 8, true));
        assertArgument("cuSeqlensQ", () -> FlashMasks.packed(new int[] {0, 9}, 8, true));
        assertArgument("cuSeqlensK", () -> FlashMasks.packed(new int[] {0, 4}, new int[] {0, 2, 4}, 8, 8, true));
        var e = assertThrows(InvalidRequestException.class, () -> FlashMasks.document(8, 5, 4));
        assertEquals("docLengths: expected lengths summing to at most seqLen = 8, got a sum of at least 9", e.getMessage());
    }

    private static void assertArgument(String argument, Runnable call) {
        var e = assertThrows(InvalidRequestException.class, call::run);
        assertEquals(argument, e.argument(), e.getMessage());
    }
}
