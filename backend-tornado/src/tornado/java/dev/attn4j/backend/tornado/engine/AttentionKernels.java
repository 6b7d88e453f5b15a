package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Attention forward and backward in TornadoVM's Java dialect. Semantics are those of {@code AttentionOptions}
 * (docs/design.md §4): softcap, then ALiBi, the relative table and the dense bias; causal/window as a key range per
 * row; dense and FlashMask masks per element; Philox dropout with the counter mapping of {@code Dropout}.
 *
 * <p>Two forms of each kernel. The device runs the {@code KernelContext} ones ({@link #forwardTiled},
 * {@link #backwardQTiled}, {@link #backwardKVTiled}): groups of {@link #TILE_ROWS} rows share tiles staged in
 * local memory. The {@code @Parallel} ones ({@link #forward}, {@link #backwardQ}, {@link #backwardKV}), one work
 * item per row with no barriers, compute the same thing and also run as plain Java on the JVM: they are the
 * reference the device result is checked against ({@code KernelSemanticsTest}); the tiled kernels cannot run
 * that way. {@link #rowDot} and {@link #tableGrad} have one form, used by both.
 *
 * <p>Tensors are blocks of the engine's device heaps ({@link DeviceHeap}): {@code heap} (floats) and {@code ints}
 * (FlashMask indices, dense masks as 0/1). Everything that describes a call (sizes, flags, strides, seeds, and
 * where each tensor starts, the {@code *_AT} slots) travels in the {@code meta} and {@code fmeta} arrays, not as
 * captured scalars: a task graph binds its scalars when it is built, so this way the one compiled plan serves
 * every call. The device kernels' work size is set per call through the plan's worker grids; the
 * {@code @Parallel} twins take their row count as the loop bound (they run on the JVM only).
 *
 * <p>Scores are recomputed rather than stored: each work item keeps its output row in a private array of
 * {@link #MAX_HEAD_DIM} floats (TornadoVM private arrays need a compile-time size) and writes it once.
 *
 * <p>TornadoVM 5.2.1 quirks this code avoids: ALiBi distances are {@code Math.abs} of a float (the OpenCL
 * graph-builder plugin for the int overload fails, "plugin manipulated the stack incorrectly"); the key range
 * is one formula fed by host-computed reaches (a ternary on a causal flag there gave wrong outputs on POCL).
 */
final class AttentionKernels {
    /** {@code meta} slots. */
    static final int SQ = 0, SK = 1, HEADS = 2, KV_HEADS = 3, D = 4, REACH_LEFT = 5, REACH_RIGHT = 6, BATCH = 7,
            ROWS = 8, CAUSAL = 9, TABLE = 10, DMASK = 11, DMASK_BS = 12, DMASK_HS = 13, DBIAS = 14, DBIAS_BS = 15,
            DBIAS_HS = 16, FMASK = 17, FMASK_HEADS = 18, FMASK_N = 19, DROP = 20, DROP_THRESHOLD = 21, SEED_LO = 22,
            SEED_HI = 23, OFF_LO = 24, OFF_HI = 25, ALIBI = 26, ALIBI_BS = 27;
    /** {@code meta} slots: where each tensor starts in the float heap (the masks: in the int heap). */
    static final int Q_AT = 28, K_AT = 29, V_AT = 30, O_AT = 31, LSE_AT = 32, DO_AT = 33, DELTA_AT = 34, DQ_AT = 35, DK_AT = 36,
            DV_AT = 37, DTABLE_AT = 38, ALIBI_AT = 39, TABLE_AT = 40, DBIAS_AT = 41, DMASK_AT = 42, FMASK_AT = 43,
            META_SIZE = 44;
    /** {@code fmeta} slots. */
    static final int SCALE = 0, SOFTCAP = 1, KEEP_SCALE = 2, NAN = 3, FMETA_SIZE = 4;
    /** Largest head dimension: the size of the kernels' private row accumulators (TornadoVM needs a constant). */
    static final int MAX_HEAD_DIM = 256;
    /** Keys per online-softmax block of the forward. */
    static final int KEY_BLOCK = 32;
    /** Query rows per work group of the tiled forward (its local work size). */
    static final int TILE_ROWS = 16;
    /** Keys staged in local memory at a time by the tiled forward. */
    static final int TILE_KEYS = 16;

    private AttentionKernels() {
    }

    /**
     * Forward: {@code o [B, Sq, H, D]} and {@code lse [B, H, Sq]}, work item {@code t} = row of {@code lse}.
     * Online softmax over blocks of {@link #KEY_BLOCK} keys: a block's logits go to a private array, the running
     * output is rescaled once per block, and {@code o} is written once at the end.
     */
    static void forward(FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta, int rows) {
        for (@Parallel int t = 0; t < rows; t++) {
            if (t < meta.get(ROWS)) {
                int qAt = meta.get(Q_AT), kAt = meta.get(K_AT), vAt = meta.get(V_AT), oAt = meta.get(O_AT);
                int lseAt = meta.get(LSE_AT);
                float[] acc = new float[MAX_HEAD_DIM];
                float[] logits = new float[KEY_BLOCK];
                int sq = meta.get(SQ);
                int sk = meta.get(SK);
                int heads = meta.get(HEADS);
                int kvHeads = meta.get(KV_HEADS);
                int d = meta.get(D);
                int i = t % sq;
                int h = (t / sq) % heads;
                int b = t / (sq * heads);
                int hk = h / (heads / kvHeads);
                int qBase = ((b * sq + i) * heads + h) * d;
                float scale = fmeta.get(SCALE);
                int start = Math.max(0, i + meta.get(REACH_LEFT));
                int end = Math.min(sk, i + meta.get(REACH_RIGHT) + 1);
                for (int x = 0; x < d; x++) {
                    acc[x] = 0.0f;
                }
                float m = Float.NEGATIVE_INFINITY;
                float l = 0.0f;
                // Non-finite rule: a NaN or +inf logit of a visible key makes the row NaN (max drops NaN).
                int poisoned = 0;
                for (int j0 = start; j0 < end; j0 += KEY_BLOCK) {
                    int n = Math.min(KEY_BLOCK, end - j0);
                    float blockMax = Float.NEGATIVE_INFINITY;
                    for (int u = 0; u < n; u++) {
                        int j = j0 + u;
                        int kBase = ((b * sk + j) * kvHeads + hk) * d;
                        float s = dotHeap(heap, qAt + qBase, kAt + kBase, d);
                        s = logit(s * scale, meta, fmeta, heap, b, h, i, j);
                        float masked = visible(meta, ints, b, h, i, j) == 1 ? s : Float.NEGATIVE_INFINITY;
                        if (masked != masked || masked == Float.POSITIVE_INFINITY) {
                            poisoned = 1;
                        }
                        logits[u] = masked;
                        blockMax = TornadoMath.max(blockMax, masked);
                    }
                    if (blockMax > Float.NEGATIVE_INFINITY) {
                        float mNew = TornadoMath.max(m, blockMax);
                        float correction = TornadoMath.exp(m - mNew);
                        l = l * correction;
                        for (int x = 0; x < d; x++) {
                            acc[x] = acc[x] * correction;
                        }
                        for (int u = 0; u < n; u++) {
                            int j = j0 + u;
                            int kBase = ((b * sk + j) * kvHeads + hk) * d;
                            float p = TornadoMath.exp(logits[u] - mNew);
                            l = l + p;
                            float weight = p * keep(meta, fmeta, b, h, i, j);
                            for (int x = 0; x < d; x++) {
                                acc[x] = acc[x] + weight * heap.get(vAt + kBase + x);
                            }
                        }
                        m = mNew;
                    }
                }
                // NaN comes from fmeta: TornadoVM's OpenCL code generator cannot print a NaN constant.
                float nan = fmeta.get(NAN);
                float inv = poisoned == 1 ? nan : l > 0.0f ? 1.0f / l : 0.0f;
                for (int x = 0; x < d; x++) {
                    heap.set(oAt + qBase + x, acc[x] * inv);
                }
                heap.set(lseAt + t, poisoned == 1 ? nan : l > 0.0f ? m + TornadoMath.log(l) : Float.NEGATIVE_INFINITY);
            }
        }
    }

    /**
     * The forward as {@link #forward}, tiled: a work group of {@link #TILE_ROWS} query rows of one (batch, head)
     * stages {@link #TILE_KEYS} keys and values at a time in local memory, so each K/V row is read once per group
     * rather than once per query row. Group {@code g} takes rows {@code (g % tiles)·TILE_ROWS...} of head
     * {@code g / tiles}; every item runs every loop (uniform trip counts keep the barriers legal), rows past
     * {@code Sq} and keys outside a row's causal/window range are masked by selects, not branches.
     */
    static void forwardTiled(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        float[] kTile = ctx.allocateFloatLocalArray(TILE_KEYS * MAX_HEAD_DIM);
        float[] vTile = ctx.allocateFloatLocalArray(TILE_KEYS * MAX_HEAD_DIM);
        float[] acc = new float[MAX_HEAD_DIM];
        float[] logits = new float[TILE_KEYS];
        int lid = ctx.localIdx;
        int group = ctx.groupIdx;
        int qAt = meta.get(Q_AT), kAt = meta.get(K_AT), vAt = meta.get(V_AT), oAt = meta.get(O_AT);
        int lseAt = meta.get(LSE_AT);
        int sq = meta.get(SQ);
        int sk = meta.get(SK);
        int heads = meta.get(HEADS);
        int kvHeads = meta.get(KV_HEADS);
        int d = meta.get(D);
        int d4 = d - d % 4;
        int tiles = (sq + TILE_ROWS - 1) / TILE_ROWS;
        int bh = group / tiles;
        int b = bh / heads;
        int h = bh % heads;
        int hk = h / (heads / kvHeads);
        int firstRow = (group % tiles) * TILE_ROWS;
        int lastRow = Math.min(sq, firstRow + TILE_ROWS) - 1;
        int i = Math.min(firstRow + lid, lastRow);
        int live = firstRow + lid <= lastRow && b < meta.get(BATCH) ? 1 : 0;
        int reachLeft = meta.get(REACH_LEFT);
        int reachRight = meta.get(REACH_RIGHT);
        int start = Math.max(0, i + reachLeft);
        int end = Math.min(sk, i + reachRight + 1);
        // The group's keys: the union of its rows' ranges (both bounds grow with the row).
        int groupStart = Math.max(0, firstRow + reachLeft);
        int groupEnd = Math.min(sk, lastRow + reachRight + 1);
        int qBase = ((Math.min(b, meta.get(BATCH) - 1) * sq + i) * heads + h) * d;
        float scale = fmeta.get(SCALE);
        for (int x = 0; x < d; x++) {
            acc[x] = 0.0f;
        }
        float m = Float.NEGATIVE_INFINITY;
        float l = 0.0f;
        // Non-finite rule: a NaN or +inf logit of a visible key makes the row NaN (max drops NaN).
        int poisoned = 0;
        for (int j0 = groupStart; j0 < groupEnd; j0 += TILE_KEYS) {
            int n = Math.min(TILE_KEYS, groupEnd - j0);
            for (int e = lid; e < n * d; e += TILE_ROWS) {
                int u = e / d;
                int x = e % d;
                int kBase = ((Math.min(b, meta.get(BATCH) - 1) * sk + j0 + u) * kvHeads + hk) * d;
                kTile[u * MAX_HEAD_DIM + x] = heap.get(kAt + kBase + x);
                vTile[u * MAX_HEAD_DIM + x] = heap.get(vAt + kBase + x);
            }
            ctx.localBarrier();
            float blockMax = Float.NEGATIVE_INFINITY;
            for (int u = 0; u < n; u++) {
                int j = j0 + u;
                // dotHeap's order, written out: TornadoVM 5.2.1 miscompiles a helper that takes a local array.
                float s0 = 0.0f;
                float s1 = 0.0f;
                float s2 = 0.0f;
                float s3 = 0.0f;
                for (int x = 0; x < d4; x += 4) {
                    s0 += heap.get(qAt + qBase + x) * kTile[u * MAX_HEAD_DIM + x];
                    s1 += heap.get(qAt + qBase + x + 1) * kTile[u * MAX_HEAD_DIM + x + 1];
                    s2 += heap.get(qAt + qBase + x + 2) * kTile[u * MAX_HEAD_DIM + x + 2];
                    s3 += heap.get(qAt + qBase + x + 3) * kTile[u * MAX_HEAD_DIM + x + 3];
                }
                for (int x = d4; x < d; x++) {
                    s0 += heap.get(qAt + qBase + x) * kTile[u * MAX_HEAD_DIM + x];
                }
                float s = (s0 + s1) + (s2 + s3);
                s = logit(s * scale, meta, fmeta, heap, b, h, i, j);
                int open = live * (j >= start ? 1 : 0) * (j < end ? 1 : 0) * visible(meta, ints, b, h, i, j);
                float masked = open == 1 ? s : Float.NEGATIVE_INFINITY;
                if (masked != masked || masked == Float.POSITIVE_INFINITY) {
                    poisoned = 1;
                }
                logits[u] = masked;
                blockMax = TornadoMath.max(blockMax, masked);
            }
            float mNew = TornadoMath.max(m, blockMax);
            // A row that has seen no key yet keeps m = -inf; exp(-inf - -inf) would be NaN, so scale by 1 then.
            float correction = mNew > Float.NEGATIVE_INFINITY ? TornadoMath.exp(m - mNew) : 1.0f;
            float shift = mNew > Float.NEGATIVE_INFINITY ? mNew : 0.0f;
            l = l * correction;
            for (int x = 0; x < d; x++) {
                acc[x] = acc[x] * correction;
            }
            for (int u = 0; u < n; u++) {
                float p = TornadoMath.exp(logits[u] - shift);
                l = l + p;
                float weight = p * keep(meta, fmeta, b, h, i, j0 + u);
                for (int x = 0; x < d; x++) {
                    acc[x] = acc[x] + weight * vTile[u * MAX_HEAD_DIM + x];
                }
            }
            m = mNew;
            ctx.localBarrier();
        }
        if (live == 1) {
            // NaN comes from fmeta: TornadoVM's OpenCL code generator cannot print a NaN constant.
            float nan = fmeta.get(NAN);
            float inv = poisoned == 1 ? nan : l > 0.0f ? 1.0f / l : 0.0f;
            for (int x = 0; x < d; x++) {
                heap.set(oAt + qBase + x, acc[x] * inv);
            }
            heap.set(lseAt + (b * heads + h) * sq + i,
                    poisoned == 1 ? nan : l > 0.0f ? m + TornadoMath.log(l) : Float.NEGATIVE_INFINITY);
        }
    }

    /** {@code delta = rowsum(dO ∘ o)} per query row, numbered as {@code lse}; one work item per row. */
    static void rowDot(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        rowDotItem(ctx.globalIdx, heap, meta);
    }

    /** Work item {@code t} of {@link #rowDot}, also run as plain Java by the tests. */
    static void rowDotItem(int t, FloatArray heap, IntArray meta) {
        if (t < meta.get(ROWS)) {
            int dOAt = meta.get(DO_AT), oAt = meta.get(O_AT), deltaAt = meta.get(DELTA_AT);
            int sq = meta.get(SQ);
            int heads = meta.get(HEADS);
            int d = meta.get(D);
            int i = t % sq;
            int h = (t / sq) % heads;
            int b = t / (sq * heads);
            int base = ((b * sq + i) * heads + h) * d;
            // In the order the backward sums dP = dO·v: where a row sees a single key, o = v exactly and dP − D
            // cancels to exactly 0, as in real arithmetic, instead of leaving noise the gradients amplify.
            heap.set(deltaAt + t, dotHeap(heap, dOAt + base, oAt + base, d));
        }
    }

    /**
     * {@code dq_i = scale · Σ_j dS_ij k_j} with {@code dS = P (z dP − delta)} times d logit / d raw score
     * ({@code P} recomputed from {@code lse}, {@code z} the dropout factor); one work item per query row.
     */
    static void backwardQ(FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta, int rows) {
        for (@Parallel int t = 0; t < rows; t++) {
            if (t < meta.get(ROWS)) {
                int qAt = meta.get(Q_AT), kAt = meta.get(K_AT), vAt = meta.get(V_AT), dOAt = meta.get(DO_AT);
                int lseAt = meta.get(LSE_AT), deltaAt = meta.get(DELTA_AT), dqAt = meta.get(DQ_AT);
                int sq = meta.get(SQ);
                int sk = meta.get(SK);
                int heads = meta.get(HEADS);
                int kvHeads = meta.get(KV_HEADS);
                int d = meta.get(D);
                int i = t % sq;
                int h = (t / sq) % heads;
                int b = t / (sq * heads);
                int hk = h / (heads / kvHeads);
                int qBase = ((b * sq + i) * heads + h) * d;
                float scale = fmeta.get(SCALE);
                float softcap = fmeta.get(SOFTCAP);
                int start = Math.max(0, i + meta.get(REACH_LEFT));
                int end = Math.min(sk, i + meta.get(REACH_RIGHT) + 1);
                float rowLse = heap.get(lseAt + t);
                float rowDelta = heap.get(deltaAt + t);
                float[] acc = new float[MAX_HEAD_DIM];
                for (int x = 0; x < d; x++) {
                    acc[x] = 0.0f;
                }
                if (rowLse != Float.NEGATIVE_INFINITY) {
                    for (int j = start; j < end; j++) {
                        if (visible(meta, ints, b, h, i, j) == 1) {
                            int kBase = ((b * sk + j) * kvHeads + hk) * d;
                            float s = dotHeap(heap, qAt + qBase, kAt + kBase, d);
                            float dp = dotHeap(heap, dOAt + qBase, vAt + kBase, d);
                            float raw = s * scale;
                            float p = TornadoMath.exp(logit(raw, meta, fmeta, heap, b, h, i, j) - rowLse);
                            float z = keep(meta, fmeta, b, h, i, j);
                            float ds = p * (z * dp - rowDelta) * logitGrad(raw, softcap) * scale;
                            for (int x = 0; x < d; x++) {
                                acc[x] = acc[x] + ds * heap.get(kAt + kBase + x);
                            }
                        }
                    }
                }
                for (int x = 0; x < d; x++) {
                    heap.set(dqAt + qBase + x, acc[x]);
                }
            }
        }
    }

    /**
     * {@code dv_j = Σ_i z_ij P_ij dO_i} and {@code dk_j = scale · Σ_i dS_ij q_i} over every query head sharing KV
     * head {@code hk} and every query row that sees key {@code j}; one work item per key row, summing in a fixed
     * order, so results are deterministic without atomics.
     */
    static void backwardKV(FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta, int kvRows) {
        for (@Parallel int t = 0; t < kvRows; t++) {
            int qAt = meta.get(Q_AT), kAt = meta.get(K_AT), vAt = meta.get(V_AT), dOAt = meta.get(DO_AT);
            int lseAt = meta.get(LSE_AT), deltaAt = meta.get(DELTA_AT), dkAt = meta.get(DK_AT), dvAt = meta.get(DV_AT);
            int sq = meta.get(SQ);
            int sk = meta.get(SK);
            int heads = meta.get(HEADS);
            int kvHeads = meta.get(KV_HEADS);
            if (t < meta.get(BATCH) * kvHeads * sk) {
                int d = meta.get(D);
                int j = t % sk;
                int hk = (t / sk) % kvHeads;
                int b = t / (sk * kvHeads);
                int kBase = ((b * sk + j) * kvHeads + hk) * d;
                int group = heads / kvHeads;
                float scale = fmeta.get(SCALE);
                float softcap = fmeta.get(SOFTCAP);
                int firstRow = Math.max(0, j - meta.get(REACH_RIGHT));
                int endRow = Math.min(sq, j - meta.get(REACH_LEFT) + 1);
                // dK and dV accumulate in place: two private rows of MAX_HEAD_DIM per work item overflowed POCL's
                // work-group stack (SIGSEGV inside the kernel at S = 1024).
                for (int x = 0; x < d; x++) {
                    heap.set(dkAt + kBase + x, 0.0f);
                    heap.set(dvAt + kBase + x, 0.0f);
                }
                for (int g = 0; g < group; g++) {
                    int h = hk * group + g;
                    for (int i = firstRow; i < endRow; i++) {
                        int row = (b * heads + h) * sq + i;
                        float rowLse = heap.get(lseAt + row);
                        int open = visible(meta, ints, b, h, i, j) * (rowLse != Float.NEGATIVE_INFINITY ? 1 : 0);
                        if (open == 1) {
                            int qBase = ((b * sq + i) * heads + h) * d;
                            float s = dotHeap(heap, qAt + qBase, kAt + kBase, d);
                            float dp = dotHeap(heap, dOAt + qBase, vAt + kBase, d);
                            float raw = s * scale;
                            float p = TornadoMath.exp(logit(raw, meta, fmeta, heap, b, h, i, j) - rowLse);
                            float z = keep(meta, fmeta, b, h, i, j);
                            float ds = p * (z * dp - heap.get(deltaAt + row)) * logitGrad(raw, softcap) * scale;
                            float pz = p * z;
                            for (int x = 0; x < d; x++) {
                                heap.set(dkAt + kBase + x, heap.get(dkAt + kBase + x) + ds * heap.get(qAt + qBase + x));
                                heap.set(dvAt + kBase + x, heap.get(dvAt + kBase + x) + pz * heap.get(dOAt + qBase + x));
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * dQ as {@link #backwardQ}, tiled like {@link #forwardTiled}: a group of {@link #TILE_ROWS} query rows stages
     * {@link #TILE_KEYS} keys and values at a time in local memory.
     */
    static void backwardQTiled(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int qAt = meta.get(Q_AT), kAt = meta.get(K_AT), vAt = meta.get(V_AT), dOAt = meta.get(DO_AT);
        int lseAt = meta.get(LSE_AT), deltaAt = meta.get(DELTA_AT), dqAt = meta.get(DQ_AT);
        float[] kTile = ctx.allocateFloatLocalArray(TILE_KEYS * MAX_HEAD_DIM);
        float[] vTile = ctx.allocateFloatLocalArray(TILE_KEYS * MAX_HEAD_DIM);
        float[] acc = new float[MAX_HEAD_DIM];
        int lid = ctx.localIdx;
        int sq = meta.get(SQ);
        int sk = meta.get(SK);
        int heads = meta.get(HEADS);
        int kvHeads = meta.get(KV_HEADS);
        int d = meta.get(D);
        int d4 = d - d % 4;
        int tiles = (sq + TILE_ROWS - 1) / TILE_ROWS;
        int bh = ctx.groupIdx / tiles;
        int b = bh / heads;
        int h = bh % heads;
        int hk = h / (heads / kvHeads);
        int firstRow = (ctx.groupIdx % tiles) * TILE_ROWS;
        int lastRow = Math.min(sq, firstRow + TILE_ROWS) - 1;
        int i = Math.min(firstRow + lid, lastRow);
        int reachLeft = meta.get(REACH_LEFT);
        int reachRight = meta.get(REACH_RIGHT);
        int start = Math.max(0, i + reachLeft);
        int end = Math.min(sk, i + reachRight + 1);
        int groupStart = Math.max(0, firstRow + reachLeft);
        int groupEnd = Math.min(sk, lastRow + reachRight + 1);
        int qBase = ((b * sq + i) * heads + h) * d;
        int row = (b * heads + h) * sq + i;
        float rowLse = heap.get(lseAt + row);
        float rowDelta = heap.get(deltaAt + row);
        int live = (firstRow + lid <= lastRow ? 1 : 0) * (rowLse != Float.NEGATIVE_INFINITY ? 1 : 0);
        float scale = fmeta.get(SCALE);
        float softcap = fmeta.get(SOFTCAP);
        for (int x = 0; x < d; x++) {
            acc[x] = 0.0f;
        }
        for (int j0 = groupStart; j0 < groupEnd; j0 += TILE_KEYS) {
            int n = Math.min(TILE_KEYS, groupEnd - j0);
            for (int e = lid; e < n * d; e += TILE_ROWS) {
                int u = e / d;
                int x = e % d;
                int kBase = ((b * sk + j0 + u) * kvHeads + hk) * d;
                kTile[u * MAX_HEAD_DIM + x] = heap.get(kAt + kBase + x);
                vTile[u * MAX_HEAD_DIM + x] = heap.get(vAt + kBase + x);
            }
            ctx.localBarrier();
            for (int u = 0; u < n; u++) {
                int j = j0 + u;
                // dotHeap's order, written out: TornadoVM 5.2.1 miscompiles a helper that takes a local array.
                float s0 = 0.0f;
                float s1 = 0.0f;
                float s2 = 0.0f;
                float s3 = 0.0f;
                float p0 = 0.0f;
                float p1 = 0.0f;
                float p2 = 0.0f;
                float p3 = 0.0f;
                for (int x = 0; x < d4; x += 4) {
                    s0 += heap.get(qAt + qBase + x) * kTile[u * MAX_HEAD_DIM + x];
                    s1 += heap.get(qAt + qBase + x + 1) * kTile[u * MAX_HEAD_DIM + x + 1];
                    s2 += heap.get(qAt + qBase + x + 2) * kTile[u * MAX_HEAD_DIM + x + 2];
                    s3 += heap.get(qAt + qBase + x + 3) * kTile[u * MAX_HEAD_DIM + x + 3];
                    p0 += heap.get(dOAt + qBase + x) * vTile[u * MAX_HEAD_DIM + x];
                    p1 += heap.get(dOAt + qBase + x + 1) * vTile[u * MAX_HEAD_DIM + x + 1];
                    p2 += heap.get(dOAt + qBase + x + 2) * vTile[u * MAX_HEAD_DIM + x + 2];
                    p3 += heap.get(dOAt + qBase + x + 3) * vTile[u * MAX_HEAD_DIM + x + 3];
                }
                for (int x = d4; x < d; x++) {
                    s0 += heap.get(qAt + qBase + x) * kTile[u * MAX_HEAD_DIM + x];
                    p0 += heap.get(dOAt + qBase + x) * vTile[u * MAX_HEAD_DIM + x];
                }
                float s = (s0 + s1) + (s2 + s3);
                float dp = (p0 + p1) + (p2 + p3);
                float raw = s * scale;
                int open = live * (j >= start ? 1 : 0) * (j < end ? 1 : 0) * visible(meta, ints, b, h, i, j);
                float e = TornadoMath.exp(logit(raw, meta, fmeta, heap, b, h, i, j) - rowLse);
                float p = open == 1 ? e : 0.0f;
                float ds = p * (keep(meta, fmeta, b, h, i, j) * dp - rowDelta) * logitGrad(raw, softcap) * scale;
                for (int x = 0; x < d; x++) {
                    acc[x] = acc[x] + ds * kTile[u * MAX_HEAD_DIM + x];
                }
            }
            ctx.localBarrier();
        }
        if (firstRow + lid <= lastRow) {
            // An empty row has no gradient; its p is 0, but 0 times a non-finite k would still be NaN.
            float empty = rowLse == Float.NEGATIVE_INFINITY ? 1.0f : 0.0f;
            for (int x = 0; x < d; x++) {
                heap.set(dqAt + qBase + x, empty == 1.0f ? 0.0f : acc[x]);
            }
        }
    }

    /**
     * dK/dV as {@link #backwardKV}, tiled: a group of {@link #TILE_ROWS} key rows of one (batch, KV head) stages
     * {@link #TILE_KEYS} query rows of Q and dO (with their lse and delta) at a time in local memory, for every
     * query head sharing the KV head, and sums in the same fixed order. With 16 items per group the two
     * private accumulator rows fit POCL's work-group stack (the {@code @Parallel} version's larger groups did not).
     */
    static void backwardKVTiled(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int qAt = meta.get(Q_AT), kAt = meta.get(K_AT), vAt = meta.get(V_AT), dOAt = meta.get(DO_AT);
        int lseAt = meta.get(LSE_AT), deltaAt = meta.get(DELTA_AT), dkAt = meta.get(DK_AT), dvAt = meta.get(DV_AT);
        float[] qTile = ctx.allocateFloatLocalArray(TILE_KEYS * MAX_HEAD_DIM);
        float[] dOTile = ctx.allocateFloatLocalArray(TILE_KEYS * MAX_HEAD_DIM);
        float[] lseTile = ctx.allocateFloatLocalArray(TILE_KEYS);
        float[] deltaTile = ctx.allocateFloatLocalArray(TILE_KEYS);
        float[] dkAcc = new float[MAX_HEAD_DIM];
        float[] dvAcc = new float[MAX_HEAD_DIM];
        int lid = ctx.localIdx;
        int sq = meta.get(SQ);
        int sk = meta.get(SK);
        int heads = meta.get(HEADS);
        int kvHeads = meta.get(KV_HEADS);
        int d = meta.get(D);
        int d4 = d - d % 4;
        int tiles = (sk + TILE_ROWS - 1) / TILE_ROWS;
        int bhk = ctx.groupIdx / tiles;
        int b = bhk / kvHeads;
        int hk = bhk % kvHeads;
        int firstKey = (ctx.groupIdx % tiles) * TILE_ROWS;
        int lastKey = Math.min(sk, firstKey + TILE_ROWS) - 1;
        int j = Math.min(firstKey + lid, lastKey);
        int live = firstKey + lid <= lastKey ? 1 : 0;
        int reachLeft = meta.get(REACH_LEFT);
        int reachRight = meta.get(REACH_RIGHT);
        int rowStart = Math.max(0, j - reachRight);
        int rowEnd = Math.min(sq, j - reachLeft + 1);
        int groupRowStart = Math.max(0, firstKey - reachRight);
        int groupRowEnd = Math.min(sq, lastKey - reachLeft + 1);
        int kBase = ((b * sk + j) * kvHeads + hk) * d;
        int perKv = heads / kvHeads;
        float scale = fmeta.get(SCALE);
        float softcap = fmeta.get(SOFTCAP);
        for (int x = 0; x < d; x++) {
            dkAcc[x] = 0.0f;
            dvAcc[x] = 0.0f;
        }
        for (int g = 0; g < perKv; g++) {
            int h = hk * perKv + g;
            for (int i0 = groupRowStart; i0 < groupRowEnd; i0 += TILE_KEYS) {
                int n = Math.min(TILE_KEYS, groupRowEnd - i0);
                for (int e = lid; e < n * d; e += TILE_ROWS) {
                    int u = e / d;
                    int x = e % d;
                    int qBase = ((b * sq + i0 + u) * heads + h) * d;
                    qTile[u * MAX_HEAD_DIM + x] = heap.get(qAt + qBase + x);
                    dOTile[u * MAX_HEAD_DIM + x] = heap.get(dOAt + qBase + x);
                }
                for (int u = lid; u < n; u += TILE_ROWS) {
                    lseTile[u] = heap.get(lseAt + (b * heads + h) * sq + i0 + u);
                    deltaTile[u] = heap.get(deltaAt + (b * heads + h) * sq + i0 + u);
                }
                ctx.localBarrier();
                for (int u = 0; u < n; u++) {
                    int i = i0 + u;
                    float rowLse = lseTile[u];
                    // dotHeap's order, written out: TornadoVM 5.2.1 miscompiles a helper that takes a local array.
                    float s0 = 0.0f;
                    float s1 = 0.0f;
                    float s2 = 0.0f;
                    float s3 = 0.0f;
                    float p0 = 0.0f;
                    float p1 = 0.0f;
                    float p2 = 0.0f;
                    float p3 = 0.0f;
                    for (int x = 0; x < d4; x += 4) {
                        s0 += heap.get(kAt + kBase + x) * qTile[u * MAX_HEAD_DIM + x];
                        s1 += heap.get(kAt + kBase + x + 1) * qTile[u * MAX_HEAD_DIM + x + 1];
                        s2 += heap.get(kAt + kBase + x + 2) * qTile[u * MAX_HEAD_DIM + x + 2];
                        s3 += heap.get(kAt + kBase + x + 3) * qTile[u * MAX_HEAD_DIM + x + 3];
                        p0 += heap.get(vAt + kBase + x) * dOTile[u * MAX_HEAD_DIM + x];
                        p1 += heap.get(vAt + kBase + x + 1) * dOTile[u * MAX_HEAD_DIM + x + 1];
                        p2 += heap.get(vAt + kBase + x + 2) * dOTile[u * MAX_HEAD_DIM + x + 2];
                        p3 += heap.get(vAt + kBase + x + 3) * dOTile[u * MAX_HEAD_DIM + x + 3];
                    }
                    for (int x = d4; x < d; x++) {
                        s0 += heap.get(kAt + kBase + x) * qTile[u * MAX_HEAD_DIM + x];
                        p0 += heap.get(vAt + kBase + x) * dOTile[u * MAX_HEAD_DIM + x];
                    }
                    float s = (s0 + s1) + (s2 + s3);
                    float dp = (p0 + p1) + (p2 + p3);
                    float raw = s * scale;
                    int open = live * (i >= rowStart ? 1 : 0) * (i < rowEnd ? 1 : 0)
                            * (rowLse != Float.NEGATIVE_INFINITY ? 1 : 0) * visible(meta, ints, b, h, i, j);
                    float e = TornadoMath.exp(logit(raw, meta, fmeta, heap, b, h, i, j) - rowLse);
                    float p = open == 1 ? e : 0.0f;
                    float z = keep(meta, fmeta, b, h, i, j);
                    float ds = p * (z * dp - deltaTile[u]) * logitGrad(raw, softcap) * scale;
                    float pz = p * z;
                    for (int x = 0; x < d; x++) {
                        dkAcc[x] = dkAcc[x] + ds * qTile[u * MAX_HEAD_DIM + x];
                        dvAcc[x] = dvAcc[x] + pz * dOTile[u * MAX_HEAD_DIM + x];
                    }
                }
                ctx.localBarrier();
            }
        }
        if (live == 1) {
            for (int x = 0; x < d; x++) {
                heap.set(dkAt + kBase + x, dkAcc[x]);
                heap.set(dvAt + kBase + x, dvAcc[x]);
            }
        }
    }

    /**
     * Gradient of the relative-position table: {@code dT[h][u]} sums {@code P (z dP − delta)} (the gradient of the
     * logit, before the softcap's chain rule) over every {@code (b, i, j)} on diagonal {@code j − (i + Sk − Sq) =
     * u − (Sk − 1)}; one work item per {@code (h, u)} walks its diagonal in order (deterministic).
     */
    static void tableGrad(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int t = ctx.globalIdx;
        int qAt = meta.get(Q_AT), kAt = meta.get(K_AT), vAt = meta.get(V_AT), dOAt = meta.get(DO_AT);
        int lseAt = meta.get(LSE_AT), deltaAt = meta.get(DELTA_AT), dTableAt = meta.get(DTABLE_AT);
        int sq = meta.get(SQ);
        int sk = meta.get(SK);
        int heads = meta.get(HEADS);
        int width = sq + sk - 1;
        if (t < heads * width) {
            int kvHeads = meta.get(KV_HEADS);
            int d = meta.get(D);
            int h = t / width;
            int hk = h / (heads / kvHeads);
            int rel = t % width - (sk - 1);
            int off = sk - sq;
            float scale = fmeta.get(SCALE);
            int iLo = Math.max(0, -rel - off);
            int iHi = Math.min(sq, sk - rel - off);
            float sum = 0.0f;
            for (int b = 0; b < meta.get(BATCH); b++) {
                for (int i = iLo; i < iHi; i++) {
                    int j = i + off + rel;
                    int row = (b * heads + h) * sq + i;
                    float rowLse = heap.get(lseAt + row);
                    int inReach = (j >= i + meta.get(REACH_LEFT) ? 1 : 0) * (j <= i + meta.get(REACH_RIGHT) ? 1 : 0);
                    int open = inReach * visible(meta, ints, b, h, i, j)
                            * (rowLse != Float.NEGATIVE_INFINITY ? 1 : 0);
                    if (open == 1) {
                        int qBase = ((b * sq + i) * heads + h) * d;
                        int kBase = ((b * sk + j) * kvHeads + hk) * d;
                        float s = dotHeap(heap, qAt + qBase, kAt + kBase, d);
                        float dp = dotHeap(heap, dOAt + qBase, vAt + kBase, d);
                        float p = TornadoMath.exp(logit(s * scale, meta, fmeta, heap, b, h, i, j) - rowLse);
                        sum += p * (keep(meta, fmeta, b, h, i, j) * dp - heap.get(deltaAt + row));
                    }
                }
            }
            heap.set(dTableAt + t, sum);
        }
    }

    /**
     * 1 when neither the dense mask nor FlashMask (read with {@code causal} as docs/design.md §4 says) hides key j from
     * row i. Written without branches, every load unconditional (an absent mask reads element 0 of the int heap,
     * its offset being 0, and the flag discards the value): TornadoVM 5.2.1 threads nested branches whose results are constants straight to the
     * enclosing loop's back edge and then emits OpenCL that falls through into the rest of the loop body, so
     * masked keys were counted (found by {@code KernelSemanticsTest}).
     */
    private static int visible(IntArray meta, IntArray ints, int b, int h, int i, int j) {
        int sk = meta.get(SK);
        int dense = meta.get(DMASK);
        int maskBit = ints.get(meta.get(DMASK_AT) + dense * (b * meta.get(DMASK_BS) + h * meta.get(DMASK_HS) + i * sk + j));
        int denseHidden = dense * (maskBit == 0 ? 1 : 0);
        int flash = meta.get(FMASK);
        int n = meta.get(FMASK_N);
        int maskHeads = meta.get(FMASK_HEADS);
        int base = meta.get(FMASK_AT) + flash * (((b * maskHeads + h / (meta.get(HEADS) / maskHeads)) * sk + j) * n);
        int last = flash * (n - 1);
        int geLowerStart = i >= ints.get(base) ? 1 : 0;
        int ltLowerEnd = i < ints.get(base + Math.min(1, last)) ? 1 : 0;
        int geUpperStart = i >= ints.get(base + Math.min(2, last)) ? 1 : 0;
        int ltUpperEnd = i < ints.get(base + Math.min(3, last)) ? 1 : 0;
        int inLower = geLowerStart & ltLowerEnd;
        // causal: [LTS] hides rows >= LTS, [LTS, LTE] rows in [LTS, LTE); otherwise [LTS, UTE] hides rows >= LTS
        // or < UTE, [LTS, LTE, UTS, UTE] rows in [LTS, LTE) or [UTS, UTE).
        int causalHidden = n == 1 ? geLowerStart : inLower;
        int otherHidden = n == 2 ? geLowerStart | ltLowerEnd : inLower | (geUpperStart & ltUpperEnd);
        int flashHidden = flash * (meta.get(CAUSAL) != 0 ? causalHidden : otherHidden);
        return 1 - (denseHidden | flashHidden);
    }

    /**
     * {@code a·b} over {@code d} features, {@code a} at {@code aAt} in the heap and {@code b} at {@code bAt}: four
     * partial sums over {@code x mod 4} (the rest of {@code d} into the first), added as {@code (s0+s1)+(s2+s3)}.
     * One addition chain was latency-bound on POCL (forward 319 vs 221 ms at S = 1024). Every score, {@code dP}
     * and {@code D = dO·o} is summed in this one order, forward and backward: the backward's recomputed
     * {@code P = exp(s − lse)} then matches the forward's exactly, and {@code dP − D} cancels exactly where a row
     * sees one key (with mixed orders, D = 128 and 256 cases and single-key cases left the suite's tolerance).
     * The tiled kernels write this loop out (a helper taking a local array miscompiles).
     */
    private static float dotHeap(FloatArray heap, int aAt, int bAt, int d) {
        float s0 = 0.0f;
        float s1 = 0.0f;
        float s2 = 0.0f;
        float s3 = 0.0f;
        int d4 = d - d % 4;
        for (int x = 0; x < d4; x += 4) {
            s0 += heap.get(aAt + x) * heap.get(bAt + x);
            s1 += heap.get(aAt + x + 1) * heap.get(bAt + x + 1);
            s2 += heap.get(aAt + x + 2) * heap.get(bAt + x + 2);
            s3 += heap.get(aAt + x + 3) * heap.get(bAt + x + 3);
        }
        for (int x = d4; x < d; x++) {
            s0 += heap.get(aAt + x) * heap.get(bAt + x);
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** Raw scaled score to logit: softcap, then ALiBi, the relative table and the dense bias. */
    private static float logit(float raw, IntArray meta, FloatArray fmeta, FloatArray heap, int b, int h, int i,
                               int j) {
        int sq = meta.get(SQ);
        int sk = meta.get(SK);
        float softcap = fmeta.get(SOFTCAP);
        float s = raw;
        if (softcap > 0.0f) {
            s = softcap * TornadoMath.tanh(raw / softcap);
        }
        int rel = j - (i + sk - sq);
        if (meta.get(ALIBI) != 0) {
            s = s - heap.get(meta.get(ALIBI_AT) + b * meta.get(ALIBI_BS) + h) * Math.abs((float) rel);
        }
        if (meta.get(TABLE) != 0) {
            s = s + heap.get(meta.get(TABLE_AT) + h * (sq + sk - 1) + rel + sk - 1);
        }
        if (meta.get(DBIAS) != 0) {
            s = s + heap.get(meta.get(DBIAS_AT) + b * meta.get(DBIAS_BS) + h * meta.get(DBIAS_HS) + i * sk + j);
        }
        return s;
    }

    /** d logit / d raw score: 1, or {@code 1 − tanh²(raw / c)} under softcap {@code c}. */
    private static float logitGrad(float raw, float softcap) {
        float g = 1.0f;
        if (softcap > 0.0f) {
            float u = TornadoMath.tanh(raw / softcap);
            g = 1.0f - u * u;
        }
        return g;
    }

    /**
     * The dropout factor of element {@code (b, h, i, j)}: 0 when dropped, {@code 1/(1−p)} when kept, 1 without
     * dropout. Counter mapping and Philox4x32-10 as {@code Dropout}'s Javadoc specifies; the unsigned 32-bit
     * high products are taken from 64-bit products of zero-extended words (no {@code >>>} on ints, see below).
     */
    private static float keep(IntArray meta, FloatArray fmeta, int b, int h, int i, int j) {
        float z = 1.0f;
        if (meta.get(DROP) != 0) {
            long n = (((long) b * meta.get(HEADS) + h) * meta.get(SQ) + i) * meta.get(SK) + j;
            long block = n >>> 2;
            int c0 = (int) block;
            int c1 = (int) (block >>> 32);
            int c2 = meta.get(OFF_LO);
            int c3 = meta.get(OFF_HI);
            int k0 = meta.get(SEED_LO);
            int k1 = meta.get(SEED_HI);
            for (int round = 0; round < 10; round++) {
                long p0 = 0xD2511F53L * ((long) c0 & 0xFFFFFFFFL);
                long p1 = 0xCD9E8D57L * ((long) c2 & 0xFFFFFFFFL);
                int y = c1;
                int w = c3;
                c0 = (int) (p1 >>> 32) ^ y ^ k0;
                c1 = (int) p1;
                c2 = (int) (p0 >>> 32) ^ w ^ k1;
                c3 = (int) p0;
                k0 = k0 + 0x9E3779B9;
                k1 = k1 + 0xBB67AE85;
            }
            int lane = (int) (n & 3L);
            int word = c0;
            if (lane == 1) {
                word = c1;
            }
            if (lane == 2) {
                word = c2;
            }
            if (lane == 3) {
                word = c3;
            }
            // (word >>> 8) through a zero-extended long: TornadoVM 5.2.1 emits int >>> as an arithmetic >>.
            int u24 = (int) (((long) word & 0xFFFFFFFFL) >> 8);
            if (u24 >= meta.get(DROP_THRESHOLD)) {
                z = fmeta.get(KEEP_SCALE);
            } else {
                z = 0.0f;
            }
        }
        return z;
    }
}
