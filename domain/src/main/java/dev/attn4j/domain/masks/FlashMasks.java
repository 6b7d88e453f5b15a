package dev.attn4j.domain.masks;

import dev.attn4j.ports.InvalidRequestException;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Builders of {@link FlashMask}s for the mask kinds of the FlashMask paper, plus key padding and packed
 * sequences given as {@code cu_seqlens}. Each builder validates its input, works in O(S) memory, and
 * returns a mask of batch 1 and one mask head (which broadcasts over every query head) unless it says
 * otherwise; {@link FlashMask#repeatBatch}, {@link FlashMask#concatBatch} and
 * {@link FlashMask#concatHeads} assemble larger masks. Each result carries the {@code causal} flag the
 * attention call must use ({@link FlashMask#causal()}); every builder's Javadoc names it too.
 *
 * <p>Document-style builders take segment lengths that may sum to less than the sequence; the positions
 * after the last segment are padding: they neither attend nor are attended to, so their output rows are
 * 0 (docs/design.md §4, a row with no key). Self-attention kinds take one {@code seqLen} (Sq = Sk).
 *
 * <pre>{@code
 * FlashMask docs   = FlashMasks.causalDocument(8192, 2538, 1742, 3213);     // causal=true
 * FlashMask prefix = FlashMasks.prefixLm(2048, 512);                        // causal=false
 * FlashMask varlen = FlashMasks.packed(FlashMasks.cuSeqlens(5, 3, 8), 16, true);
 * }</pre>
 */
public final class FlashMasks {

    private FlashMasks() {
    }

    /**
     * No mask at all (every row sees every key), in the non-causal form. Use with {@code causal=false}.
     *
     * @param seqQ Sq, the number of queries
     * @param seqK Sk, the number of keys
     * @return the mask
     */
    public static FlashMask full(int seqQ, int seqK) {
        checkLength("seqQ", seqQ);
        checkLength("seqK", seqK);
        int[] out = new int[2 * seqK];
        for (int j = 0; j < seqK; j++) {
            out[2 * j] = seqQ;      // [LTS, UTE] = [Sq, 0]: neither range holds a row
        }
        return new FlashMask(out, 1, 1, seqQ, seqK, 2, false);
    }

    /**
     * Plain causal attention (bottom-right aligned as docs/design.md §4), nothing else masked. Use with
     * {@code causal=true}.
     *
     * @param seqQ Sq, the number of queries
     * @param seqK Sk, the number of keys
     * @return the mask
     */
    public static FlashMask causal(int seqQ, int seqK) {
        checkLength("seqQ", seqQ);
        checkLength("seqK", seqK);
        int[] out = new int[seqK];
        Arrays.fill(out, seqQ);
        return new FlashMask(out, 1, 1, seqQ, seqK, 1, true);
    }

    /**
     * Causal sliding window: row {@code i} sees keys {@code [i + off - left, i + off]} with
     * {@code off = Sk - Sq}, the same keys as {@code AttentionOptions.window(left, 0)} with
     * {@code causal=true}. Use with {@code causal=true}.
     *
     * @param seqQ Sq, the number of queries
     * @param seqK Sk, the number of keys
     * @param left keys allowed left of the diagonal (-1 = unbounded)
     * @return the mask
     */
    public static FlashMask slidingWindow(int seqQ, int seqK, int left) {
        checkLength("seqQ", seqQ);
        checkLength("seqK", seqK);
        InvalidRequestException.check(left >= 0, "left", ">= 0 keys left of the diagonal", left);
        int off = seqK - seqQ;
        int[] out = new int[seqK];
        for (int j = 0; j < seqK; j++) {
            out[j] = clamp((long) j + left + 1 - off, seqQ);
        }
        return new FlashMask(out, 1, 1, seqQ, seqK, 1, true);
    }

    /**
     * Bidirectional sliding window: row {@code i} sees keys {@code [i + off - left, i + off + right]}, the
     * same keys as {@code AttentionOptions.window(left, right)} without causal. Use with {@code causal=false}.
     *
     * @param seqQ Sq, the number of queries
     * @param seqK Sk, the number of keys
     * @param left keys allowed left of the diagonal (-1 = unbounded)
     * @param right keys allowed right of the diagonal (-1 = unbounded)
     * @return the mask
     */
    public static FlashMask slidingWindow(int seqQ, int seqK, int left, int right) {
        checkLength("seqQ", seqQ);
        checkLength("seqK", seqK);
        InvalidRequestException.check(left >= 0, "left", ">= 0 keys left of the diagonal", left);
        InvalidRequestException.check(right >= 0, "right", ">= 0 keys right of the diagonal", right);
        int off = seqK - seqQ;
        int[] out = new int[2 * seqK];
        for (int j = 0; j < seqK; j++) {
            out[2 * j] = clamp((long) j + left + 1 - off, seqQ);
            out[2 * j + 1] = clamp((long) j - right - off, seqQ);
        }
        return new FlashMask(out, 1, 1, seqQ, seqK, 2, false);
    }

    /**
     * Causal document mask: the sequence packs documents of the given lengths, each attending causally
     * to itself only. Use with {@code causal=true}.
     *
     * @param seqLen sequence length (as many queries as keys)
     * @param docLengths the documents' lengths, in order, summing to the sequence length
     * @return the mask
     */
    public static FlashMask causalDocument(int seqLen, int... docLengths) {
        int[] ends = ends("docLengths", seqLen, docLengths);
        int total = ends[ends.length - 1];
        int[] out = new int[seqLen];
        int doc = 0;
        for (int j = 0; j < seqLen; j++) {
            while (doc < ends.length && j >= ends[doc]) {
                doc++;
            }
            out[j] = doc < ends.length ? ends[doc] : total;
        }
        return new FlashMask(out, 1, 1, seqLen, seqLen, 1, true);
    }

    /**
     * {@return document mask: documents of the given lengths, each attending bidirectionally to itself only}
     * Use with {@code causal=false}.
     *
     * @param seqLen sequence length (as many queries as keys)
     * @param docLengths the documents' lengths, in order, summing to the sequence length
     */
    public static FlashMask document(int seqLen, int... docLengths) {
        int[] ends = ends("docLengths", seqLen, docLengths);
        int[] out = new int[2 * seqLen];
        int doc = 0;
        for (int j = 0; j < seqLen; j++) {
            while (doc < ends.length && j >= ends[doc]) {
                doc++;
            }
            if (doc < ends.length) {
                out[2 * j] = ends[doc];
                out[2 * j + 1] = doc == 0 ? 0 : ends[doc - 1];
            }   // padding column: [0, 0] masks every row
        }
        return new FlashMask(out, 1, 1, seqLen, seqLen, 2, false);
    }

    /**
     * Shared-question mask: each sample is {@code [question, answer1, answer2, ...]} lengths; the question
     * attends causally to itself, every answer causally to its question and itself, never to the other
     * answers (one forward pass for several answers, as in DPO / reward-model training). Samples are
     * packed one after another. Use with {@code causal=true}.
     *
     * @param seqLen sequence length (as many queries as keys)
     * @param samples the samples, in order
     * @return the mask
     */
    public static FlashMask sharedQuestion(int seqLen, int[]... samples) {
        checkLength("seqLen", seqLen);
        InvalidRequestException.check(samples != null && samples.length > 0, "samples", "at least one sample", 0);
        int[] out = new int[seqLen];
        int at = 0;
        for (int s = 0; s < samples.length; s++) {
            int[] parts = samples[s];
            String name = "samples[" + s + "]";
            InvalidRequestException.check(parts != null && parts.length >= 2, name,
                    "a question length and at least one answer length", parts == null ? "null" : Arrays.toString(parts));
            long sampleLength = 0;
            for (int p = 0; p < parts.length; p++) {
                InvalidRequestException.check(parts[p] >= 1, name + "[" + p + "]", "a length >= 1", parts[p]);
                sampleLength += parts[p];
            }
            InvalidRequestException.check(at + sampleLength <= seqLen, "samples",
                    "lengths summing to at most seqLen = " + seqLen, "more (sample " + s + " ends at " + (at + sampleLength) + ")");
            int sampleEnd = (int) (at + sampleLength);
            for (int p = 0; p < parts.length; p++) {
                int end = at + parts[p];
                Arrays.fill(out, at, end, p == 0 ? sampleEnd : end);
                at = end;
            }
        }
        Arrays.fill(out, at, seqLen, at);
        return new FlashMask(out, 1, 1, seqLen, seqLen, 1, true);
    }

    /**
     * Global + sliding window: the first {@code globalTokens} tokens attend to and are attended by every
     * token; the others see keys {@code [i - left, i + right]}. Use with {@code causal=false}.
     *
     * @param seqLen sequence length (as many queries as keys)
     * @param globalTokens leading tokens every row sees and that see every row
     * @param left keys allowed left of the diagonal (-1 = unbounded)
     * @param right keys allowed right of the diagonal (-1 = unbounded)
     * @return the mask
     */
    public static FlashMask globalSlidingWindow(int seqLen, int globalTokens, int left, int right) {
        checkLength("seqLen", seqLen);
        InvalidRequestException.check(globalTokens >= 0 && globalTokens <= seqLen, "globalTokens",
                "in [0, seqLen = " + seqLen + "]", globalTokens);
        InvalidRequestException.check(left >= 0, "left", ">= 0 keys left of the diagonal", left);
        InvalidRequestException.check(right >= 0, "right", ">= 0 keys right of the diagonal", right);
        int[] out = new int[4 * seqLen];
        for (int j = 0; j < seqLen; j++) {
            int at = 4 * j;
            if (j < globalTokens) {
                out[at] = seqLen;       // lower range [Sq, Sq) and upper range [0, 0): nothing masked
                out[at + 1] = seqLen;
            } else {
                // Rows below the window, and rows above it except the global ones.
                out[at] = clamp((long) j + left + 1, seqLen);
                out[at + 1] = seqLen;
                out[at + 2] = globalTokens;
                out[at + 3] = Math.max(globalTokens, clamp((long) j - right, seqLen));
            }
        }
        return new FlashMask(out, 1, 1, seqLen, seqLen, 4, false);
    }

    /**
     * Causal blockwise mask: blocks of the given lengths (summing to exactly {@code seqLen}); every block
     * but the last attends causally to itself only, the last block attends causally to everything (as
     * in in-context learning with many demonstrations). Use with {@code causal=true}.
     *
     * @param seqLen sequence length (as many queries as keys)
     * @param blockLengths the blocks' lengths, in order
     * @return the mask
     */
    public static FlashMask causalBlockwise(int seqLen, int... blockLengths) {
        int[] ends = ends("blockLengths", seqLen, blockLengths);
        // Padding after the last block would need a third masked range per column; not expressible.
        InvalidRequestException.check(ends[ends.length - 1] == seqLen, "blockLengths",
                "lengths summing to exactly seqLen = " + seqLen, ends[ends.length - 1]);
        int lastStart = ends.length == 1 ? 0 : ends[ends.length - 2];
        int[] out = new int[2 * seqLen];
        int block = 0;
        for (int j = 0; j < seqLen; j++) {
            while (j >= ends[block]) {
                block++;
            }
            boolean last = block == ends.length - 1;
            out[2 * j] = last ? seqLen : ends[block];
            out[2 * j + 1] = last ? seqLen : lastStart;
        }
        return new FlashMask(out, 1, 1, seqLen, seqLen, 2, true);
    }

    /**
     * Prefix LM: the first {@code prefixLength} tokens attend bidirectionally among themselves, the rest
     * causally to everything before them (and the prefix). Use with {@code causal=false}.
     *
     * @param seqLen sequence length (as many queries as keys)
     * @param prefixLength rows of the bidirectional prefix
     * @return the mask
     */
    public static FlashMask prefixLm(int seqLen, int prefixLength) {
        checkLength("seqLen", seqLen);
        InvalidRequestException.check(prefixLength >= 0 && prefixLength <= seqLen, "prefixLength",
                "in [0, seqLen = " + seqLen + "]", prefixLength);
        int[] out = new int[2 * seqLen];
        for (int j = 0; j < seqLen; j++) {
            out[2 * j] = seqLen;
            out[2 * j + 1] = j < prefixLength ? 0 : j;
        }
        return new FlashMask(out, 1, 1, seqLen, seqLen, 2, false);
    }

    /**
     * Prefix LM per document: documents of {@code docLengths}, each attending to itself only, with the first
     * {@code prefixLengths[d]} tokens of document {@code d} bidirectional and the rest causal. Use with
     * {@code causal=false}.
     *
     * @param seqLen sequence length (as many queries as keys)
     * @param docLengths the documents' lengths, in order, summing to the sequence length
     * @param prefixLengths each document's prefix length
     * @return the mask
     */
    public static FlashMask prefixDocument(int seqLen, int[] docLengths, int[] prefixLengths) {
        int[] ends = ends("docLengths", seqLen, docLengths);
        InvalidRequestException.check(prefixLengths != null && prefixLengths.length == docLengths.length,
                "prefixLengths", docLengths.length + " lengths (one per document)",
                prefixLengths == null ? "null" : prefixLengths.length);
        for (int d = 0; d < docLengths.length; d++) {
            InvalidRequestException.check(prefixLengths[d] >= 0 && prefixLengths[d] <= docLengths[d],
                    "prefixLengths[" + d + "]", "in [0, " + docLengths[d] + "] (its document's length)", prefixLengths[d]);
        }
        int[] out = new int[2 * seqLen];
        int doc = 0;
        for (int j = 0; j < seqLen; j++) {
            while (doc < ends.length && j >= ends[doc]) {
                doc++;
            }
            if (doc < ends.length) {
                int start = doc == 0 ? 0 : ends[doc - 1];
                out[2 * j] = ends[doc];
                out[2 * j + 1] = j < start + prefixLengths[doc] ? start : j;
            }   // padding column: [0, 0] masks every row
        }
        return new FlashMask(out, 1, 1, seqLen, seqLen, 2, false);
    }

    /**
     * QK-sparse mask (as the FlashMask paper's benchmark builds it): causal, except that in each span
     * {@code [spanStarts[k], spanStarts[k] + spanLengths[k])} the span's queries do not attend to the
     * span's keys (later queries still do). Spans are ascending and do not overlap. Use with
     * {@code causal=true}.
     *
     * @param seqLen sequence length (as many queries as keys)
     * @param spanStarts first row of each span
     * @param spanLengths rows of each span
     * @return the mask
     */
    public static FlashMask qkSparse(int seqLen, int[] spanStarts, int[] spanLengths) {
        checkLength("seqLen", seqLen);
        InvalidRequestException.check(spanStarts != null, "spanStarts", "an array", "null");
        InvalidRequestException.check(spanLengths != null && spanLengths.length == spanStarts.length, "spanLengths",
                spanStarts.length + " lengths (one per span start)", spanLengths == null ? "null" : spanLengths.length);
        int[] out = new int[2 * seqLen];
        for (int j = 0; j < seqLen; j++) {
            out[2 * j] = seqLen;
            out[2 * j + 1] = seqLen;
        }
        int previousEnd = 0;
        for (int k = 0; k < spanStarts.length; k++) {
            int start = spanStarts[k];
            InvalidRequestException.check(start >= previousEnd, "spanStarts[" + k + "]",
                    ">= " + previousEnd + " (ascending, non-overlapping spans)", start);
            InvalidRequestException.check(spanLengths[k] >= 1, "spanLengths[" + k + "]", ">= 1", spanLengths[k]);
            long end = (long) start + spanLengths[k];
            InvalidRequestException.check(end <= seqLen, "spanLengths[" + k + "]",
                    "a span ending by seqLen = " + seqLen, "a span ending at " + end);
            for (int j = start; j < end; j++) {
                out[2 * j] = j;
                out[2 * j + 1] = (int) end;
            }
            previousEnd = (int) end;
        }
        return new FlashMask(out, 1, 1, seqLen, seqLen, 2, true);
    }

    /**
     * Eviction mask (KV-cache eviction): key {@code j} is seen causally until row {@code evictRows[j]}
     * ({@code seqLen} = never evicted), so {@code evictRows[j]} must lie in {@code [j + 1, seqLen]}. Use
     * with {@code causal=true}.
     *
     * @param evictRows per key column, the first query row that no longer sees it
     * @return the mask
     */
    public static FlashMask eviction(int... evictRows) {
        InvalidRequestException.check(evictRows != null && evictRows.length >= 1, "evictRows",
                "one row per key", evictRows == null ? "null" : 0);
        int seqLen = evictRows.length;
        for (int j = 0; j < seqLen; j++) {
            InvalidRequestException.check(evictRows[j] > j && evictRows[j] <= seqLen, "evictRows[" + j + "]",
                    "in [" + (j + 1) + ", " + seqLen + "] (after the key's own row)", evictRows[j]);
        }
        return new FlashMask(evictRows.clone(), 1, 1, seqLen, seqLen, 1, true);
    }

    /**
     * Random eviction mask: a KV cache holding {@code cacheSize} keys; from row {@code cacheSize} on,
     * each new row evicts one earlier key chosen uniformly at random (seeded, reproducible), so every row
     * sees at most {@code cacheSize} keys. For a different pattern per head, build one mask per seed and
     * {@link FlashMask#concatHeads} them. Use with {@code causal=true}.
     *
     * @param seqLen sequence length (as many queries as keys)
     * @param cacheSize keys already cached
     * @param seed the seed
     * @return the mask
     */
    public static FlashMask randomEviction(int seqLen, int cacheSize, long seed) {
        checkLength("seqLen", seqLen);
        InvalidRequestException.check(cacheSize >= 1 && cacheSize <= seqLen, "cacheSize",
                "in [1, seqLen = " + seqLen + "]", cacheSize);
        int[] evict = new int[seqLen];
        Arrays.fill(evict, seqLen);
        int[] pool = new int[seqLen];
        int size = 0;
        for (int j = 0; j < cacheSize - 1; j++) {
            pool[size++] = j;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int row = cacheSize; row < seqLen; row++) {
            pool[size++] = row - 1;     // the key of the previous row enters the cache
            int pick = random.nextInt(size);
            evict[pool[pick]] = row;
            pool[pick] = pool[--size];
        }
        return eviction(evict);
    }

    /**
     * Key padding: batch entry {@code b} has {@code keyLengths[b]} valid keys; the rest are masked for
     * every query. The result has batch {@code keyLengths.length}. Use with the given {@code causal}.
     *
     * @param seqQ Sq, the number of queries
     * @param seqK Sk, the number of keys
     * @param keyLengths each sequence's key count
     * @param causal whether the attention call is causal
     * @return the mask
     */
    public static FlashMask keyPadding(int seqQ, int seqK, int[] keyLengths, boolean causal) {
        checkLength("seqQ", seqQ);
        checkLength("seqK", seqK);
        InvalidRequestException.check(keyLengths != null && keyLengths.length >= 1, "keyLengths",
                "one length per batch entry", keyLengths == null ? "null" : 0);
        int n = causal ? 1 : 2;
        int[] out = new int[Math.multiplyExact(keyLengths.length, seqK * n)];
        for (int b = 0; b < keyLengths.length; b++) {
            InvalidRequestException.check(keyLengths[b] >= 0 && keyLengths[b] <= seqK, "keyLengths[" + b + "]",
                    "in [0, seqK = " + seqK + "]", keyLengths[b]);
            for (int j = 0; j < seqK; j++) {
                // The upper bound (n = 2) stays 0: nothing above the diagonal is masked.
                out[(b * seqK + j) * n] = j < keyLengths[b] ? seqQ : 0;
            }
        }
        return new FlashMask(out, keyLengths.length, 1, seqQ, seqK, n, causal);
    }

    /**
     * Packed sequences as FlashAttention's varlen API and xformers' {@code BlockDiagonalMask} take them:
     * segment {@code d} holds queries {@code [cuSeqlensQ[d], cuSeqlensQ[d+1])} and keys
     * {@code [cuSeqlensK[d], cuSeqlensK[d+1])}, and attends only within itself; with {@code causal}, causally
     * and bottom-right aligned within each segment (FlashAttention ≥ 2.1). Positions past the last offset
     * are padding. When query and key segments coincide the result is the cheaper causal form
     * ({@code causal=true}, n = 1); otherwise it is {@code causal=false}: read {@link FlashMask#causal()}.
     *
     * @param cuSeqlensQ cumulative query lengths, starting at 0
     * @param cuSeqlensK cumulative key lengths, starting at 0
     * @param seqQ Sq, the number of queries
     * @param seqK Sk, the number of keys
     * @param causal whether the attention call is causal
     * @return the mask
     */
    public static FlashMask packed(int[] cuSeqlensQ, int[] cuSeqlensK, int seqQ, int seqK, boolean causal) {
        checkLength("seqQ", seqQ);
        checkLength("seqK", seqK);
        checkCuSeqlens("cuSeqlensQ", cuSeqlensQ, seqQ);
        checkCuSeqlens("cuSeqlensK", cuSeqlensK, seqK);
        InvalidRequestException.check(cuSeqlensK.length == cuSeqlensQ.length, "cuSeqlensK",
                cuSeqlensQ.length + " offsets (as cuSeqlensQ)", cuSeqlensK.length);
        int segments = cuSeqlensQ.length - 1;
        if (causal && seqQ == seqK && Arrays.equals(cuSeqlensQ, cuSeqlensK)) {
            int[] out = new int[seqK];
            int total = cuSeqlensK[segments];
            for (int d = 0; d < segments; d++) {
                Arrays.fill(out, cuSeqlensK[d], cuSeqlensK[d + 1], cuSeqlensK[d + 1]);
            }
            Arrays.fill(out, total, seqK, total);
            return new FlashMask(out, 1, 1, seqQ, seqK, 1, true);
        }
        int[] out = new int[2 * seqK];  // padding keys keep [0, 0]: masked for every row
        for (int d = 0; d < segments; d++) {
            int qs = cuSeqlensQ[d];
            int qe = cuSeqlensQ[d + 1];
            int ks = cuSeqlensK[d];
            int ke = cuSeqlensK[d + 1];
            for (int j = ks; j < ke; j++) {
                out[2 * j] = qe;
                // Causal within the segment: local row i' sees local key j' iff j' <= i' + (lk - lq).
                long upper = causal ? (long) qs + (j - ks) - (ke - ks) + (qe - qs) : qs;
                out[2 * j + 1] = (int) Math.min(qe, Math.max(qs, upper));
            }
        }
        return new FlashMask(out, 1, 1, seqQ, seqK, 2, false);
    }

    /**
     * {@return {@link #packed(int[], int[], int, int, boolean)} for self-attention: the same offsets for q and k}
     *
     * @param cuSeqlens cumulative sequence lengths, starting at 0
     * @param seqLen sequence length (as many queries as keys)
     * @param causal whether the attention call is causal
     */
    public static FlashMask packed(int[] cuSeqlens, int seqLen, boolean causal) {
        return packed(cuSeqlens, cuSeqlens, seqLen, seqLen, causal);
    }

    /**
     * {@return the {@code cu_seqlens} offsets {@code [0, l0, l0 + l1, ...]} of segments of the given lengths}
     *
     * @param lengths the lengths
     */
    public static int[] cuSeqlens(int... lengths) {
        InvalidRequestException.check(lengths != null, "lengths", "an array", "null");
        int[] out = new int[lengths.length + 1];
        for (int k = 0; k < lengths.length; k++) {
            InvalidRequestException.check(lengths[k] >= 0, "lengths[" + k + "]", ">= 0", lengths[k]);
            out[k + 1] = Math.addExact(out[k], lengths[k]);
        }
        return out;
    }

    private static void checkCuSeqlens(String name, int[] cu, int seq) {
        InvalidRequestException.check(cu != null && cu.length >= 2, name, "at least 2 offsets [0, ..., total]",
                cu == null ? "null" : Arrays.toString(cu));
        InvalidRequestException.check(cu[0] == 0, name + "[0]", "0", cu[0]);
        for (int k = 1; k < cu.length; k++) {
            InvalidRequestException.check(cu[k] >= cu[k - 1], name + "[" + k + "]",
                    ">= " + cu[k - 1] + " (non-decreasing offsets)", cu[k]);
        }
        InvalidRequestException.check(cu[cu.length - 1] <= seq, name, "a last offset <= " + seq, cu[cu.length - 1]);
    }

    /** The running ends of segments of the given lengths; validates lengths >= 1 and sum <= seqLen. */
    private static int[] ends(String name, int seqLen, int[] lengths) {
        checkLength("seqLen", seqLen);
        InvalidRequestException.check(lengths != null && lengths.length >= 1, name, "at least one length",
                lengths == null ? "null" : 0);
        int[] ends = new int[lengths.length];
        long sum = 0;
        for (int k = 0; k < lengths.length; k++) {
            InvalidRequestException.check(lengths[k] >= 1, name + "[" + k + "]", "a length >= 1", lengths[k]);
            sum += lengths[k];
            InvalidRequestException.check(sum <= seqLen, name, "lengths summing to at most seqLen = " + seqLen,
                    "a sum of at least " + sum);
            ends[k] = (int) sum;
        }
        return ends;
    }

    private static void checkLength(String name, int value) {
        InvalidRequestException.check(value >= 1, name, ">= 1", value);
    }

    private static int clamp(long row, int seqQ) {
        return (int) Math.max(0, Math.min(seqQ, row));
    }
}
