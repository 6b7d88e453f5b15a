package dev.attn4j.backend.cpu;

import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The fused linear cross-entropy on the CPU (F32), Liger-Kernel's chunked scheme with FlashAttention's online
 * softmax. The counted rows (target not the ignore index) are taken in order, {@code rows} at a time, into a chunk;
 * the chunk's logits are kept <em>transposed</em>, {@code zᵀ [V, rows]} (rows padded to whole vectors), so that the
 * big operand {@code W [V, d]} is always a product's row-major A or a block of B read right after it, and a token's
 * softmax runs down a column. The products are small and each touches its block of W or dW once, so they call the
 * micro-kernel on the operands where they lie, packing nothing ({@link #product}).
 *
 * <p>Per chunk, the vocabulary is split into fixed ranges (at most {@link #MAX_RANGES}), one work item each, every
 * GEMM of an item on the worker's own single-threaded {@link CpuGemm}:
 * <ol>
 *   <li>over the range's blocks of {@link #V_BLOCK} rows: the block's logits {@code z_b = W_b·hᵀ} (the bias added),
 *       a running column maximum {@code m} and sum {@code S = Σ exp(z − m)}, the exponentials
 *       {@code u_b = exp(z_b − m_b)} against the maximum {@code m_b} so far written over the logits (the targets'
 *       logits kept first), and, when {@code dh} is asked, the range's unnormalised {@code dh_r = Σ_b u_bᵀ·W_b},
 *       rescaled whenever {@code m} grows — so {@code W_b} is read from memory once per chunk, by the logits' GEMM,
 *       and found in cache by {@code dh}'s;</li>
 *   <li>per token, the ranges combined in order: {@code lse = m + log S}, the loss {@code lse − z[target]}, and
 *       {@code dh = gradScale·(Σ_r e^(m_r − m)·dh_r / S − W[target])};</li>
 *   <li>when {@code dW} or {@code db} is asked, per range again: {@code g = gradScale·(softmax(z) − onehot)} written
 *       over the exponentials, {@code softmax(z) = u_b·exp(m_b − m)/S} (a factor per token and block: each logit's
 *       exponential is taken once), {@code dW_r += g_rᵀ·h} ({@code g_r} the GEMM's A in place, {@code beta = 1}) and
 *       the bias sums.</li>
 * </ol>
 * Ignored rows cost nothing: they never enter a chunk, and their {@code dHidden} rows and per-token losses are 0.
 *
 * <p>The {@code [N, V]} logits never exist. The extra memory, kept for the next call, is one chunk's {@code zᵀ} (at
 * most {@link #CHUNK_FLOATS} floats, or {@link #MIN_ROWS} rows when {@code V} is larger); the ranges' partial
 * {@code dh}, {@code ranges · rows · d} floats, at most half the logits when {@code V ≥ 2d} (then
 * {@code ranges ≤ V / 2d}); {@code hᵀ} and per-token (and per-block) statistics; {@code V} doubles for {@code db};
 * and, only for a width {@code d} that is not a multiple of 16, the workers' GEMM packing buffers. At V = 20000,
 * d = 512 and 128-row chunks: 10 MiB of logits and 5 MiB besides.
 *
 * <p>Deterministic, and the same bits whatever the thread count <em>and the chunk size</em>: the ranges and blocks
 * depend on {@code V} and {@code d} only and are combined in order; every per-token value is computed the same way
 * in any chunk; {@code dW} continues each element's fma chain from its stored value chunk after chunk, which is the
 * chain over all counted tokens in order; {@code db} and the loss sum are double sums over tokens in row order,
 * rounded once.
 */
final class CpuLoss implements LossPort {
    /**
     * Floats of one chunk's logits aimed at (12 MiB; rounded down to whole 64-column panels, 10 MiB at V = 20000:
     * one core then spends about 1.15× its three GEMMs' time, against 1.3× and more below 5 MiB, where W and dW
     * pass through memory once per chunk for too few rows).
     */
    static final int CHUNK_FLOATS = 3 << 20;
    /** Fewest rows per chunk (unless the call has fewer), so that a huge vocabulary still gets a useful GEMM. */
    static final int MIN_ROWS = 32;
    /**
     * Vocabulary rows per step within a range: the logits' GEMM reads this block of W ({@code V_BLOCK · d} floats,
     * 1 MiB at d = 512) and {@code dh}'s reads it again from cache; the GEMM's reduction block, so {@code dh}'s
     * packs it once.
     */
    static final int V_BLOCK = CpuGemm.KC;
    /** Fewest vocabulary rows per range, so that a range's GEMMs are big enough to run at speed. */
    static final int MIN_RANGE_ROWS = 1024;
    /** Most ranges: enough items to balance many workers, and a bound on the partial {@code dh}. */
    static final int MAX_RANGES = 32;

    private final CpuEngine engine;
    private final WorkerPool pool;
    private final TileMath math;
    private final LossKernels kernels;
    private final ElementwiseKernels elementwise;
    /** One single-threaded GEMM per worker, each keeping its own packing memory. */
    private final CpuGemm[] gemms;
    private final int chunkFloats;
    private final int minRows;
    private final AtomicReference<Workspace> retained = new AtomicReference<>();

    CpuLoss(CpuEngine engine, WorkerPool pool, TileMath math) {
        this(engine, pool, math, LossKernels.get(), CHUNK_FLOATS, MIN_ROWS);
    }

    /** With given kernels and chunk bounds, so tests can run the twins and several chunk sizes side by side. */
    CpuLoss(CpuEngine engine, WorkerPool pool, TileMath math, LossKernels kernels, int chunkFloats, int minRows) {
        this.engine = engine;
        this.pool = pool;
        this.math = math;
        this.kernels = kernels;
        this.elementwise = ElementwiseKernels.get();
        this.chunkFloats = chunkFloats;
        this.minRows = minRows;
        // A pool of one worker has no threads: its GEMM runs on whichever of our workers calls it.
        this.gemms = new CpuGemm[pool.threads()];
        for (int w = 0; w < gemms.length; w++) {
            gemms[w] = new CpuGemm(new WorkerPool(1), math);
        }
    }

    /**
     * Rows per chunk for a vocabulary of {@code v} and {@code counted} counted rows: the budget's, rounded down to a
     * multiple of 64 (whole 4-vector panels for the logits' products: a partial panel runs the micro-kernel's
     * narrower blocks, measured 10% slower overall) or, below 64, of 16; at least {@code minRows}.
     */
    int chunkRows(int v, int counted) {
        int rows = chunkFloats / v;
        int unit = rows >= CpuGemm.NR ? CpuGemm.NR : TileMath.LANES;
        if (rows >= unit) {
            rows -= rows % unit;
        }
        return Math.max(1, Math.min(counted, Math.max(minRows, rows)));
    }

    /** Most blocks of {@link #V_BLOCK} rows in one of {@code ranges} ranges of {@code v} rows. */
    static int blocksPerRange(int v, int ranges) {
        // A range has at most ⌈v / ranges⌉ rows (its bounds are ⌊r·v / ranges⌋).
        return Math.ceilDiv(Math.ceilDiv(v, ranges), V_BLOCK);
    }

    /** Vocabulary ranges of a call: a function of {@code v} and {@code d} only, so results do not depend on threads. */
    static int ranges(int v, int d) {
        int byWidth = v / (2 * d);              // the partial dh of all ranges at most half the chunk's logits
        int byRows = v / MIN_RANGE_ROWS;
        return Math.max(1, Math.min(MAX_RANGES, Math.min(byWidth, byRows)));
    }

    @Override
    public CrossEntropyResult linearCrossEntropy(CrossEntropyRequest r) {
        Span<float[]> hidden = f32(r.hidden());
        Span<float[]> weight = f32(r.weight());
        Span<float[]> bias = r.bias() == null ? null : f32(r.bias());
        Span<int[]> targets = ((CpuTensor) r.targets()).i32();
        Span<float[]> dW = r.weightGrad() == null ? null : f32(r.weightGrad());
        Span<float[]> db = r.biasGrad() == null ? null : f32(r.biasGrad());
        // Later chunks read what earlier chunks' gradients were written over: no accumulator may share an input's
        // storage (the record rejects the same tensor; views of one array need the spans).
        if (dW != null) {
            requireApart("weightGrad", dW, "hidden", hidden, "weight", weight, "bias", bias);
        }
        if (db != null) {
            requireApart("biasGrad", db, "hidden", hidden, "weight", weight, "bias", bias);
            if (dW != null) {
                CpuElementwise.requireApart("biasGrad", db, "weightGrad", dW, false);
            }
        }
        int d = r.hidden().shape().dim(-1);
        int v = r.vocabulary();
        int n = Math.toIntExact(r.rows());
        int[] counted = countedRows(targets, n, r.ignoreIndex());
        int total = counted.length;

        CpuTensor lossSum = null;
        CpuTensor count = null;
        CpuTensor dHidden = null;
        CpuTensor perToken = null;
        Workspace ws = null;
        try {
            lossSum = engine.newFloats(Shape.of(1));
            count = engine.newFloats(Shape.of(1));
            // Zero-filled: the rows of ignored tokens stay 0.
            dHidden = r.inputGrad() ? engine.newFloats(r.hidden().shape()) : null;
            perToken = r.perTokenLoss() ? engine.newFloats(r.targets().shape()) : null;
            double loss = 0;
            if (total > 0) {
                int rows = chunkRows(v, total);
                ws = workspace(rows, v, d, ranges(v, d), r.inputGrad(), db != null);
                Call c = new Call(r, hidden, weight, bias, targets, dW, dHidden == null ? null : dHidden.f32(),
                        perToken == null ? null : perToken.f32(), ws, d, v, ranges(v, d));
                for (int start = 0; start < total; start += rows) {
                    loss += chunk(c, counted, start, Math.min(rows, total - start));
                }
                if (db != null) {
                    float[] g = db.array();
                    for (int j = 0; j < v; j++) {
                        int at = db.offset() + j;
                        g[at] = (float) (g[at] + ws.biasSums[j]);
                    }
                }
            }
            lossSum.f32().array()[lossSum.f32().offset()] = (float) loss;
            count.f32().array()[count.f32().offset()] = total;
            engine.requireOpen("linear cross-entropy");
            return new CrossEntropyResult(lossSum, count, dHidden, perToken);
        } catch (RuntimeException | Error e) {
            for (CpuTensor t : new CpuTensor[] {lossSum, count, dHidden, perToken}) {
                if (t != null) {
                    t.close();
                }
            }
            throw e;
        } finally {
            if (ws != null) {
                retained.set(ws);
            }
        }
    }

    /** The indices of the rows whose target is not {@code ignore}, in order. */
    private static int[] countedRows(Span<int[]> targets, int n, int ignore) {
        int[] ids = targets.array();
        int total = 0;
        for (int t = 0; t < n; t++) {
            if (ids[targets.offset() + t] != ignore) {
                total++;
            }
        }
        int[] rows = new int[total];
        for (int t = 0, k = 0; t < n; t++) {
            if (ids[targets.offset() + t] != ignore) {
                rows[k++] = t;
            }
        }
        return rows;
    }

    /** What every chunk of one call shares. */
    private record Call(CrossEntropyRequest request, Span<float[]> hidden, Span<float[]> weight, Span<float[]> bias,
                        Span<int[]> targets, Span<float[]> dW, Span<float[]> dHidden, Span<float[]> perToken,
                        Workspace ws, int d, int v, int ranges) {

        /** First vocabulary row of range {@code r}. */
        int rangeStart(int r) {
            return (int) ((long) r * v / ranges);
        }

        /** Blocks of {@link #V_BLOCK} rows the longest range has. */
        int blocks() {
            return blocksPerRange(v, ranges);
        }
    }

    /**
     * The chunk of counted rows {@code counted[start .. start+size)}: its loss (in double) returned, its per-token
     * losses and {@code dHidden} rows written, {@code dW} and the bias sums accumulated.
     */
    private double chunk(Call c, int[] counted, int start, int size) {
        CrossEntropyRequest r = c.request();
        Workspace ws = c.ws();
        int d = c.d();
        float[] hid = c.hidden().array();
        int width = TileMath.padded(size);
        for (int i = 0; i < size; i++) {
            int from = c.hidden().offset() + counted[start + i] * d;
            System.arraycopy(hid, from, ws.h, i * d, d);
            for (int k = 0; k < d; k++) {
                ws.hT[k * width + i] = hid[from + k];
            }
            ws.target[i] = c.targets().array()[c.targets().offset() + counted[start + i]];
        }
        for (int k = 0; k < d; k++) {
            // Zero columns pad hᵀ to whole vectors: their logits are zeros that nothing reads.
            Arrays.fill(ws.hT, k * width + size, (k + 1) * width, 0f);
        }
        boolean inputGrad = c.dHidden() != null;
        pool.forEach(c.ranges(), (worker, range) -> statistics(c, size, worker, range, inputGrad));
        double loss = combine(c, counted, start, size);
        if (inputGrad) {
            inputGradient(c, counted, start, size);
        }
        if (c.dW() != null || r.biasGrad() != null) {
            pool.forEach(c.ranges(), (worker, range) -> parameterGradients(c, size, worker, range));
        }
        return loss;
    }

    /**
     * Step 1 for range {@code range}: its logits block by block, the running maximum and sum per token, and (when
     * {@code inputGrad}) its unnormalised {@code dh}, all on worker {@code worker}'s buffers and GEMM.
     */
    private void statistics(Call c, int size, int worker, int range, boolean inputGrad) {
        Workspace ws = c.ws();
        int d = c.d();
        float[] w = c.weight().array();
        int wOff = c.weight().offset();
        Span<float[]> bias = c.bias();
        float[] z = ws.logits;
        CpuGemm gemm = gemms[worker];
        Workspace.PerWorker own = ws.worker(worker, size);
        int at = range * size;
        float[] max = ws.rangeMax;
        double[] sum = ws.rangeSum;
        Arrays.fill(max, at, at + size, Float.NEGATIVE_INFINITY);
        Arrays.fill(sum, at, at + size, 0);
        int dhAt = range * size * d;
        int width = TileMath.padded(size);
        int j1 = c.rangeStart(range + 1);
        int[] target = ws.target;
        for (int b0 = c.rangeStart(range), block = range * c.blocks(); b0 < j1; b0 += V_BLOCK, block++) {
            int nb = Math.min(V_BLOCK, j1 - b0);
            int shiftAt = block * size;
            // z rows b0..b0+nb [nb, width] = W rows [nb, d] · hᵀ [d, width]: W read in place as A.
            product(gemm, w, wOff + b0 * d, d, 1, ws.hT, 0, width, z, b0 * width, width, nb, width, d, false);
            Arrays.fill(own.blockMax, 0, size, Float.NEGATIVE_INFINITY);
            for (int j = b0; j < b0 + nb; j++) {
                kernels.biasMax(z, j * width, size, bias != null, bias == null ? 0f : bias.array()[bias.offset() + j],
                        own.blockMax, 0);
            }
            // The exponentials overwrite the logits: keep the targets' for the loss first (a token's target lies
            // in one block of one range, so the ranges' workers write apart).
            for (int i = 0; i < size; i++) {
                if (target[i] >= b0 && target[i] < b0 + nb) {
                    ws.targetLogit[i] = z[target[i] * width + i];
                }
            }
            boolean grown = false;
            for (int i = 0; i < size; i++) {
                float old = max[at + i];
                float now = Math.max(old, own.blockMax[i]);
                // exp(−∞) = 0: the first block drops the (empty) sums before it.
                own.rescale[i] = now == old ? 1f : Exp.exp(old - now);
                grown |= now != old;
                max[at + i] = now;
                // While every logit so far is −∞, shift by 0: exp(−∞ − 0) = 0, where exp(−∞ + ∞) is NaN.
                ws.blockShift[shiftAt + i] = now == Float.NEGATIVE_INFINITY ? 0f : now;
            }
            Arrays.fill(own.blockSum, 0, size, 0f);
            for (int j = b0; j < b0 + nb; j++) {
                kernels.expSum(z, j * width, size, ws.blockShift, shiftAt, own.blockSum, 0);
            }
            for (int i = 0; i < size; i++) {
                sum[at + i] = sum[at + i] * own.rescale[i] + own.blockSum[i];
            }
            if (inputGrad) {
                boolean first = b0 == c.rangeStart(range);
                if (!first && grown) {
                    for (int i = 0; i < size; i++) {
                        if (own.rescale[i] != 1f) {
                            int row = dhAt + i * d;
                            elementwise.scale(ws.rangeDh, row, own.rescale[i], ws.rangeDh, row, d);
                        }
                    }
                }
                // dh_r [size, d] (+)= uᵀ [size, nb] · W rows [nb, d]; u stored [nb, width] over the logits (A
                // transposed), W found in cache.
                product(gemm, z, b0 * width, 1, width, w, wOff + b0 * d, d, ws.rangeDh, dhAt, d, size, d, nb, !first);
            }
        }
    }

    /**
     * Step 2's statistics, per token, the ranges in order: the global maximum and sum, the loss (returned, summed in
     * row order) and per-token loss, the factor {@code gradScale / S}, and each range's weight in {@code dh}.
     */
    private double combine(Call c, int[] counted, int start, int size) {
        Workspace ws = c.ws();
        int ranges = c.ranges();
        float scale = c.request().gradScale();
        float[] z = ws.logits;
        Span<float[]> perToken = c.perToken();
        double loss = 0;
        for (int i = 0; i < size; i++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int r = 0; r < ranges; r++) {
                m = Math.max(m, ws.rangeMax[r * size + i]);
            }
            double s = 0;
            for (int r = 0; r < ranges; r++) {
                // StrictMath: Math.exp and Math.log may round differently once compiled; the results must not
                // depend on the JIT.
                s += ws.rangeSum[r * size + i] * StrictMath.exp((double) ws.rangeMax[r * size + i] - m);
            }
            double li = m + StrictMath.log(s) - ws.targetLogit[i];
            loss += li;
            if (perToken != null) {
                perToken.array()[perToken.offset() + counted[start + i]] = (float) li;
            }
            ws.max[i] = m;
            ws.factor[i] = (float) (scale / s);
            for (int r = 0; r < ranges; r++) {
                ws.rangeWeight[r * size + i] = (float) (scale / s
                        * StrictMath.exp((double) ws.rangeMax[r * size + i] - m));
            }
        }
        return loss;
    }

    /** {@code dh = Σ_r weight_r · dh_r − gradScale · W[target]}, row by row into {@code dHidden}. */
    private void inputGradient(Call c, int[] counted, int start, int size) {
        Workspace ws = c.ws();
        int d = c.d();
        int ranges = c.ranges();
        float scale = c.request().gradScale();
        Span<float[]> dh = c.dHidden();
        float[] w = c.weight().array();
        int wOff = c.weight().offset();
        RowChunks chunks = RowChunks.of(size, d * ranges);
        pool.forEach(chunks.count(), k -> {
            for (int i = chunks.start(k), end = chunks.end(k); i < end; i++) {
                int out = dh.offset() + counted[start + i] * d;
                for (int r = 0; r < ranges; r++) {
                    elementwise.axpy(ws.rangeWeight[r * size + i], ws.rangeDh, (r * size + i) * d, dh.array(), out, d);
                }
                elementwise.axpy(-scale, w, wOff + ws.target[i] * d, dh.array(), out, d);
            }
        });
    }

    /**
     * Step 3 for range {@code range}: {@code g} over its exponentials, its bias sums and {@code dW_r += g_rᵀ·h}. A
     * block's {@code u = exp(z − m_b)} were taken against the running maximum {@code m_b} of step 1, so
     * {@code softmax(z)·gradScale = u · gradScale/S · exp(m_b − m)}: one factor per token and block, and no second
     * exponential per logit.
     */
    private void parameterGradients(Call c, int size, int worker, int range) {
        Workspace ws = c.ws();
        float[] z = ws.logits;
        float scale = c.request().gradScale();
        int width = TileMath.padded(size);
        int j0 = c.rangeStart(range);
        int j1 = c.rangeStart(range + 1);
        float[] factor = ws.worker(worker, size).rescale;
        for (int b0 = j0, block = range * c.blocks(); b0 < j1; b0 += V_BLOCK, block++) {
            int shiftAt = block * size;
            for (int i = 0; i < size; i++) {
                factor[i] = ws.factor[i] * Exp.exp(ws.blockShift[shiftAt + i] - ws.max[i]);
            }
            for (int j = b0, end = Math.min(j1, b0 + V_BLOCK); j < end; j++) {
                kernels.scale(z, j * width, size, factor, 0);
            }
        }
        // The one-hot part: a token's target row lies in exactly one range.
        for (int i = 0; i < size; i++) {
            int t = ws.target[i];
            if (t >= j0 && t < j1) {
                z[t * width + i] -= scale;
            }
        }
        if (c.request().biasGrad() != null) {
            double[] sums = ws.biasSums;
            for (int j = j0; j < j1; j++) {
                double s = sums[j];
                for (int i = 0, at = j * width; i < size; i++) {
                    s += z[at + i];
                }
                sums[j] = s;
            }
        }
        Span<float[]> dW = c.dW();
        if (dW != null) {
            // dW rows j0..j1 [nr, d] += gᵀ rows [nr, size] · h [size, d]: g and h read in place.
            int d = c.d();
            product(gemms[worker], z, j0 * width, width, 1, ws.h, 0, d, dW.array(), dW.offset() + j0 * d, d, j1 - j0, d,
                    size, true);
        }
    }

    /** Columns of B per pass of {@link #product} over A's rows: a {@code KC × 256} block of B is 512 KiB, in L2. */
    private static final int PRODUCT_COLUMNS = 256;

    /**
     * {@code C[m, n] (+)= A[m, k]·B[k, n]} on the calling worker, with {@code A[i][p] = a[aOff + i·ars + p·acs]},
     * {@code B[p][j] = b[bOff + p·ldb + j]}, {@code C[i][j] = c[cOff + i·ldc + j]}. When {@code n} is a multiple of
     * {@link TileMath#LANES} the micro-kernel reads A and B where they lie, in blocks of {@link CpuGemm#KC}
     * reduction steps × {@link #PRODUCT_COLUMNS} columns: nothing is packed, which matters here, where each
     * product is small and its big operand (a block of W, or of dW) is touched once. Otherwise (a width {@code d}
     * that is not a multiple of 16) the worker's {@link CpuGemm}. Either way every element is one fma chain over
     * {@code p} in order, continued from C's value when {@code accumulate}.
     */
    private void product(CpuGemm gemm, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb, float[] c,
                         int cOff, int ldc, int m, int n, int k, boolean accumulate) {
        if (n % TileMath.LANES != 0) {
            boolean transA = acs != 1;
            gemm.gemm(transA, false, m, n, k, 1f, a, aOff, transA ? acs : ars, b, bOff, ldb, accumulate ? 1f : 0f, c,
                    cOff, ldc);
            return;
        }
        for (int pc = 0; pc < k; pc += CpuGemm.KC) {
            int kc = Math.min(CpuGemm.KC, k - pc);
            for (int jc = 0; jc < n; jc += PRODUCT_COLUMNS) {
                math.gemm(a, aOff + pc * acs, ars, acs, b, bOff + pc * ldb + jc, ldb, c, cOff + jc, ldc, m,
                        Math.min(PRODUCT_COLUMNS, n - jc), kc, accumulate || pc > 0);
            }
        }
    }

    private static void requireApart(String written, Span<float[]> out, String n1, Span<float[]> s1, String n2,
                                     Span<float[]> s2, String n3, Span<float[]> s3) {
        CpuElementwise.requireApart(written, out, n1, s1, false);
        CpuElementwise.requireApart(written, out, n2, s2, false);
        if (s3 != null) {
            CpuElementwise.requireApart(written, out, n3, s3, false);
        }
    }

    /** The kept workspace if it is big enough, else a new one (a call that finds it taken makes its own). */
    private Workspace workspace(int rows, int v, int d, int ranges, boolean inputGrad, boolean biasSums) {
        Workspace ws = retained.getAndSet(null);
        if (ws == null || !ws.fits(rows, v, d, ranges, inputGrad)) {
            ws = new Workspace(rows, v, d, ranges, inputGrad, pool.threads());
        }
        ws.prepareBiasSums(biasSums ? v : 0);
        return ws;
    }

    /** Bytes held by the kept workspace, for tests of the memory bound (the GEMMs' packing memory apart). */
    long retainedBytes() {
        Workspace ws = retained.get();
        return ws == null ? 0 : ws.bytes();
    }

    /** Floats of packing memory the workers' GEMMs keep. */
    long gemmFloats() {
        long total = 0;
        for (CpuGemm g : gemms) {
            total += g.retainedFloats();
        }
        return total;
    }

    /** One call's scratch: a chunk's logits and rows, the ranges' statistics and partial dh, the workers' blocks. */
    private static final class Workspace {
        final float[] logits;
        final float[] h;
        final float[] hT;
        final int[] target;
        final float[] rangeMax;
        final double[] rangeSum;
        final float[] rangeWeight;
        final float[] rangeDh;
        final float[] max;
        final float[] factor;
        /** Per range, block and token, the shift of the block's exponentials (its running maximum, or 0). */
        final float[] blockShift;
        /** Per token, its target's logit (the bias added), kept before the exponentials overwrite it. */
        final float[] targetLogit;
        final PerWorker[] workers;
        double[] biasSums;

        /** A worker's per-token scratch. */
        static final class PerWorker {
            final float[] blockMax;
            final float[] blockSum;
            /** Step 1's rescaling of the running sums, step 3's factors of a block. */
            final float[] rescale;

            PerWorker(int rows) {
                blockMax = new float[rows];
                blockSum = new float[rows];
                rescale = new float[rows];
            }
        }

        Workspace(int rows, int v, int d, int ranges, boolean inputGrad, int threads) {
            // Logits and hᵀ in rows of whole vectors (the chunk's width padded to LANES), as the micro-kernel stores.
            logits = new float[Math.multiplyExact(TileMath.padded(rows), v)];
            h = new float[Math.multiplyExact(rows, d)];
            hT = new float[Math.multiplyExact(TileMath.padded(rows), d)];
            target = new int[rows];
            rangeMax = new float[Math.multiplyExact(ranges, rows)];
            rangeSum = new double[rangeMax.length];
            rangeWeight = new float[rangeMax.length];
            rangeDh = inputGrad ? new float[Math.multiplyExact(rangeMax.length, d)] : new float[0];
            max = new float[rows];
            factor = new float[rows];
            blockShift = new float[Math.multiplyExact(Math.multiplyExact(ranges, blocksPerRange(v, ranges)), rows)];
            targetLogit = new float[rows];
            workers = new PerWorker[threads];
        }

        /** Worker {@code w}'s buffers, made when it first runs an item (only busy workers hold one). */
        PerWorker worker(int w, int rows) {
            if (workers[w] == null || workers[w].blockMax.length < rows) {
                workers[w] = new PerWorker(rows);
            }
            return workers[w];
        }

        boolean fits(int rows, int v, int d, int ranges, boolean inputGrad) {
            return logits.length >= (long) TileMath.padded(rows) * v && h.length >= (long) rows * d
                    && hT.length >= (long) TileMath.padded(rows) * d && max.length >= rows
                    && rangeMax.length >= (long) ranges * rows
                    && blockShift.length >= (long) ranges * blocksPerRange(v, ranges) * rows
                    && (!inputGrad || rangeDh.length >= (long) ranges * rows * d);
        }

        /** Zeroed bias sums of {@code v} entries, or none. */
        void prepareBiasSums(int v) {
            if (v == 0) {
                return;
            }
            if (biasSums == null || biasSums.length < v) {
                biasSums = new double[v];
            } else {
                Arrays.fill(biasSums, 0, v, 0);
            }
        }

        long bytes() {
            long floats = (long) logits.length + h.length + hT.length + target.length + rangeMax.length + rangeWeight.length
                    + rangeDh.length + max.length + factor.length + blockShift.length + targetLogit.length;
            for (PerWorker p : workers) {
                if (p != null) {
                    floats += 3L * p.blockMax.length;
                }
            }
            long doubles = rangeSum.length + (biasSums == null ? 0 : biasSums.length);
            return floats * Float.BYTES + doubles * Double.BYTES;
        }
    }

    private static Span<float[]> f32(DeviceTensor t) {
        return ((CpuTensor) t).f32();
    }
}
