package dev.attn4j.backend.cpu;

import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionShape;

/**
 * One attention call's sizes, inputs and score rules, shared read-only by all workers of
 * {@link AttentionForward}, {@link AttentionBackward} and {@link AttentionDecode}.
 *
 * <p>The score rules are split by what they decide: {@link #keys} which keys a row may see (causal, window),
 * {@link #tiles} how much masking a tile needs (and the masking), {@link #biases} what is added to the scores, and
 * {@link #dropout} which probabilities are dropped. {@link #scores} applies them to a tile in the order of
 * docs/design.md §4.
 */
final class AttentionProblem {
    /** Query rows per tile. */
    static final int BR = 64;
    /**
     * Bytes a packed {@code Kᵀ} key tile ({@code dPad × bc} floats) may take: it should stay in L1 (48 KiB here,
     * with the score tile and a query tile's rows) while the query rows stream past it.
     */
    private static final int KEY_TILE_BYTES = 32 << 10;
    /** Backward work units wanted, whatever the thread count, so the partition is shape-only. */
    private static final int TARGET_UNITS = 8;
    /** Cap on the memory (floats) of the backward's partial sums: per-chunk dQ, per-split dK and dV. */
    private static final long PARTIAL_BUDGET = 64L << 20;

    final AttentionShape shape;
    final int batch;
    final int seqQ;
    final int seqK;
    final int heads;
    final int kvHeads;
    final int group;
    final int headDim;
    final int dPad;
    final int seqQPad;
    final int seqKPad;
    /**
     * Key columns per tile ({@link #keyTileWidth}); a multiple of {@link TileMath#LANES}, a function of the shape
     * only (head dimension, and whether the call is a decode).
     */
    final int bc;
    final int queryTiles;
    final int keyTiles;
    final int offset;
    final KeyRanges keys;
    final TileClasses tiles;
    final ScoreBiases biases;
    final AttentionDropout dropout;
    final float scale;
    /** Rows of D floats are whole vectors of LANES: the forward reads V in place instead of packing it. */
    final boolean inPlace;
    /**
     * The tensors are {@code [B, H, S, D]} (PyTorch's layout) rather than {@code [B, S, H, D]}: only where a
     * head's rows start and how far apart they are changes ({@link #queryRow}, {@link #qStride}); every
     * kernel reads rows of D floats by those, so neither layout is ever copied into the other.
     */
    final boolean bhsd;
    /** Distance between consecutive rows (positions) of one head of q, o, dO, dq: H·D in BSHD, D in BHSD. */
    final int qStride;
    /** Distance between consecutive rows of one KV head of k, v, dk, dv: Hkv·D in BSHD, D in BHSD. */
    final int kStride;
    // q, k, v may be views: each array comes with the offset of its tensor's element 0, added to every index.
    final float[] q;
    final int qOff;
    final float[] k;
    final int kOff;
    final float[] v;
    final int vOff;

    AttentionProblem(AttentionShape shape, AttentionOptions options, CpuTensor q, CpuTensor k, CpuTensor v) {
        this.shape = shape;
        this.batch = shape.batch();
        this.seqQ = shape.seqQ();
        this.seqK = shape.seqK();
        this.heads = shape.heads();
        this.kvHeads = shape.kvHeads();
        this.group = shape.groupSize();
        this.headDim = shape.headDim();
        this.dPad = TileMath.padded(headDim);
        this.seqQPad = TileMath.padded(seqQ);
        this.bc = keyTileWidth(dPad, seqQ);
        this.seqKPad = (seqK + bc - 1) / bc * bc;
        this.queryTiles = (seqQ + BR - 1) / BR;
        this.keyTiles = (seqK + bc - 1) / bc;
        this.offset = shape.offset();
        this.keys = new KeyRanges(shape, options);
        this.tiles = new TileClasses(shape, options, keys, bc);
        this.biases = new ScoreBiases(shape, options);
        this.dropout = new AttentionDropout(shape, options);
        this.inPlace = headDim == dPad;
        this.bhsd = options.layout() == AttentionLayout.BHSD;
        this.qStride = bhsd ? headDim : heads * headDim;
        this.kStride = bhsd ? headDim : kvHeads * headDim;
        this.scale = (float) options.scaleFor(headDim);
        Span<float[]> qs = q.f32();
        Span<float[]> ks = k.f32();
        Span<float[]> vs = v.f32();
        this.q = qs.array();
        this.qOff = qs.offset();
        this.k = ks.array();
        this.kOff = ks.offset();
        this.v = vs.array();
        this.vOff = vs.offset();
    }

    /**
     * Key columns per tile for rows of {@code dPad} floats and {@code seqQ} query rows: 128, or 64 where a packed
     * {@code Kᵀ} tile of 128 columns would pass {@link #KEY_TILE_BYTES} (D > 64). Measured in thread CPU time,
     * 64 against 128: 9–10% less for forward and backward at D = 128, 3–4% less at D = 72, 2% more for the
     * forward at D = 64; 32 at D = 256 cost the backward 11% more. The decode path (one query row) reads each
     * key tile once, not once per query row, and keeps 128 (64 cost it 6% at D = 128, Sk = 8192).
     */
    static int keyTileWidth(int dPad, int seqQ) {
        return seqQ == 1 || (long) dPad * 128 * Float.BYTES <= KEY_TILE_BYTES ? 128 : 64;
    }

    /** Index of key row {@code j} of KV head {@code kvHead} in a k, v, dk or dv tensor of the call's layout (add its offset). */
    int keyRow(int b, int j, int kvHead) {
        return bhsd ? ((b * kvHeads + kvHead) * seqK + j) * headDim : ((b * seqK + j) * kvHeads + kvHead) * headDim;
    }

    /** Index of query row {@code i} of head {@code h} in a q, o, dO or dq tensor of the call's layout (add its offset). */
    int queryRow(int b, int i, int h) {
        return bhsd ? ((b * heads + h) * seqQ + i) * headDim : ((b * seqQ + i) * heads + h) * headDim;
    }

    /**
     * The backward's head splits: a KV head's group of query heads is split into this many parts (a divisor of the
     * group), each a work unit of its own with its own dK/dV partial sums, until there are enough units for any
     * thread count; a function of shape only. Splitting heads rather than key tiles keeps a unit's query rows those
     * of one head at a time (a key chunk of an MQA head would stream every query head's Q, dO and dQ past each key
     * tile) and costs a partial sum of the size of K and V per split instead of one of the size of Q per chunk.
     */
    int headSplits() {
        int units = batch * kvHeads;
        int wanted = (TARGET_UNITS + units - 1) / units;
        long slab = 2 * shape.keyShape().elementCount();
        int splits = 1;
        for (int s = 1; s <= group; s++) {
            if (group % s != 0 || s > 1 && s * slab > PARTIAL_BUDGET) {
                continue;
            }
            splits = s;
            if (s >= wanted) {
                break;
            }
        }
        return splits;
    }

    /**
     * The backward's key-tile chunks, once the heads are split ({@link #headSplits}): enough units for any thread
     * count, a function of shape only.
     */
    int chunks() {
        int units = batch * kvHeads * headSplits();
        int chunks = Math.max(1, Math.min(keyTiles, (TARGET_UNITS + units - 1) / units));
        long slab = shape.queryShape().elementCount();
        while (chunks > 1 && chunks * slab > PARTIAL_BUDGET) {
            chunks--;
        }
        return chunks;
    }

    /**
     * Raw scores {@code s} (rows {@code i0..}, columns {@code j0..j0+colsPad}, row stride {@code ld}) into the
     * scores the softmax takes: capped and biased ({@link ScoreBiases}), then masked ({@link TileClasses}). With
     * a softcap, {@code tanhOut} receives {@code tanh(s/c)} (may be {@code null} in the forward).
     */
    void scores(float[] s, int ld, int b, int h, int i0, int rows, int j0, int colsPad, TileClasses.Tile tile,
                float[] tanhOut) {
        biases.apply(s, ld, b, h, i0, rows, j0, Math.min(colsPad, seqK - j0), tanhOut);
        tiles.mask(s, ld, b, h, i0, rows, j0, colsPad, tile);
    }
}
