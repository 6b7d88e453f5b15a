package dev.attn4j.backend.cpu;

import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The fused linear cross-entropy on the CPU (F32), Liger-Kernel's chunked scheme on {@link CpuGemm}. The counted
 * rows (target not the ignore index) are taken in order, {@code rows} at a time into a chunk; per chunk:
 * <ol>
 *   <li>the chunk's hidden rows are gathered into {@code h [rows, d]} and its logits computed <em>transposed</em>,
 *       {@code zᵀ [V, rows] = W·hᵀ}, so the big operand {@code W [V, d]} is the GEMM's row-major A, read where it
 *       lies, and only the small {@code h} is packed;</li>
 *   <li>per token (a column of {@code zᵀ}), over blocks of {@link #V_BLOCK} vocabulary rows in parallel: the bias
 *       added and the column maximum; then {@code e = exp(z − max)} written in place and the column sums; the
 *       loss {@code max + log Σe − z[target]};</li>
 *   <li>with gradients, {@code gᵀ = gradScale·(e / Σe − onehot)} written over {@code e} in place, then
 *       {@code dh = g·W} (rows, scattered to the rows' places in {@code dHidden}), {@code dW += gᵀ·h} (A again
 *       read in place, {@code beta = 1}) and {@code db += Σ_tokens g}.</li>
 * </ol>
 * Ignored rows cost nothing: they never enter a chunk, and their {@code dHidden} rows and per-token losses are 0.
 * The {@code [N, V]} logits never exist: the extra memory is one chunk's {@code zᵀ} (at most {@link #CHUNK_FLOATS}
 * floats, or {@link #MIN_ROWS} rows when {@code V} is larger), two {@code [rows, d]} row buffers, the per-block
 * statistics, {@code V} doubles for {@code db} and the GEMM's packing buffers; it is kept for the next call.
 *
 * <p>Deterministic, and the same bits whatever the thread count <em>and the chunk size</em>: the vocabulary blocks
 * are fixed ({@link #V_BLOCK} rows), their partial sums combined in block order; each {@code dh} element is one
 * GEMM fma chain over the vocabulary; {@code dW} continues each element's fma chain from its stored value chunk
 * after chunk, which is the chain over all counted tokens in order; {@code db} and the loss sum are double sums
 * over tokens in row order, rounded once.
 */
final class CpuLoss implements LossPort {
    /** Floats of one chunk's logits aimed at (8 MiB). */
    static final int CHUNK_FLOATS = 1 << 21;
    /** Fewest rows per chunk (unless the call has fewer), so that a huge vocabulary still gets a useful GEMM. */
    static final int MIN_ROWS = 32;
    /** Vocabulary rows per softmax work item; fixed, so the partial sums do not depend on the thread count. */
    static final int V_BLOCK = 256;

    private final CpuEngine engine;
    private final WorkerPool pool;
    private final CpuGemm gemm;
    private final LossKernels kernels;
    private final int chunkFloats;
    private final int minRows;
    private final AtomicReference<Workspace> retained = new AtomicReference<>();

    CpuLoss(CpuEngine engine, WorkerPool pool, CpuGemm gemm) {
        this(engine, pool, gemm, LossKernels.get(), CHUNK_FLOATS, MIN_ROWS);
    }

    /** With given kernels and chunk bounds, so tests can run the twins and several chunk sizes side by side. */
    CpuLoss(CpuEngine engine, WorkerPool pool, CpuGemm gemm, LossKernels kernels, int chunkFloats, int minRows) {
        this.engine = engine;
        this.pool = pool;
        this.gemm = gemm;
        this.kernels = kernels;
        this.chunkFloats = chunkFloats;
        this.minRows = minRows;
    }

    /** Rows per chunk for a vocabulary of {@code v} and {@code counted} counted rows. */
    int chunkRows(int v, int counted) {
        return Math.max(1, Math.min(counted, Math.max(minRows, chunkFloats / v)));
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
        int ignore = r.ignoreIndex();
        int[] counted = countedRows(targets, n, ignore);
        int total = counted.length;

        CpuTensor lossSum = null;
        CpuTensor count = null;
        CpuTensor dHidden = null;
        CpuTensor perToken = null;
        Workspace ws = null;
        try {
            lossSum = engine.newFloats(Shape.of(1));
            count = engine.newFloats(Shape.of(1));
            dHidden = r.inputGrad() ? engine.newFloats(r.hidden().shape()) : null;
            perToken = r.perTokenLoss() ? engine.newFloats(r.targets().shape()) : null;
            double loss = 0;
            if (total > 0) {
                int rows = chunkRows(v, total);
                ws = workspace(rows, v, d, db != null);
                Call c = new Call(r, hidden, weight, bias, targets, ws, d, v);
                Span<float[]> dh = dHidden == null ? null : dHidden.f32();
                Span<float[]> losses = perToken == null ? null : perToken.f32();
                for (int start = 0; start < total; start += rows) {
                    int size = Math.min(rows, total - start);
                    loss += chunk(c, counted, start, size, dh, losses, dW);
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
                         Span<int[]> targets, Workspace ws, int d, int v) {
    }

    /**
     * The chunk of counted rows {@code counted[start .. start+size)}: its loss (in double), its per-token losses and
     * {@code dHidden} rows written, {@code dW} and the bias sums accumulated.
     */
    private double chunk(Call c, int[] counted, int start, int size, Span<float[]> dHidden, Span<float[]> perToken,
                         Span<float[]> dW) {
        CrossEntropyRequest r = c.request();
        Workspace ws = c.ws();
        int d = c.d();
        int v = c.v();
        float[] h = ws.h;
        float[] z = ws.logits;
        float[] hid = c.hidden().array();
        for (int i = 0; i < size; i++) {
            System.arraycopy(hid, c.hidden().offset() + counted[start + i] * d, h, i * d, d);
        }
        int[] target = ws.target;
        for (int i = 0; i < size; i++) {
            target[i] = c.targets().array()[c.targets().offset() + counted[start + i]];
        }
        float[] w = c.weight().array();
        int wOff = c.weight().offset();
        // zᵀ [V, size] = W [V, d] · hᵀ: W read in place as A, the chunk's rows packed as B.
        gemm.gemm(false, true, v, size, d, 1f, w, wOff, d, h, 0, d, 0f, z, 0, size);

        int blocks = Math.ceilDiv(v, V_BLOCK);
        float[] maxes = ws.maxes;
        float[] sums = ws.sums;
        Span<float[]> bias = c.bias();
        Arrays.fill(maxes, 0, blocks * size, Float.NEGATIVE_INFINITY);
        Arrays.fill(sums, 0, blocks * size, 0f);
        pool.forEach(blocks, b -> {
            int j1 = Math.min(v, (b + 1) * V_BLOCK);
            for (int j = b * V_BLOCK; j < j1; j++) {
                kernels.biasMax(z, j * size, size, bias != null, bias == null ? 0f : bias.array()[bias.offset() + j],
                        maxes, b * size);
            }
        });
        float[] max = ws.max;
        for (int i = 0; i < size; i++) {
            float m = maxes[i];
            for (int b = 1; b < blocks; b++) {
                m = Math.max(m, maxes[b * size + i]);
            }
            max[i] = m;
        }
        // The target's logit, read before the exponentials overwrite it.
        float[] picked = ws.picked;
        for (int i = 0; i < size; i++) {
            picked[i] = z[target[i] * size + i];
        }
        pool.forEach(blocks, b -> {
            int j1 = Math.min(v, (b + 1) * V_BLOCK);
            for (int j = b * V_BLOCK; j < j1; j++) {
                kernels.expSum(z, j * size, size, max, 0, sums, b * size);
            }
        });
        double loss = 0;
        float scale = r.gradScale();
        float[] factor = ws.factor;
        for (int i = 0; i < size; i++) {
            double s = 0;
            for (int b = 0; b < blocks; b++) {
                s += sums[b * size + i];
            }
            // StrictMath: Math.log may round differently once compiled, and the loss must not depend on the JIT.
            double li = max[i] + StrictMath.log(s) - picked[i];
            loss += li;
            if (perToken != null) {
                perToken.array()[perToken.offset() + counted[start + i]] = (float) li;
            }
            factor[i] = (float) (scale / s);
        }
        if (!r.wantsGradients()) {
            return loss;
        }
        double[] biasSums = r.biasGrad() == null ? null : ws.biasSums;
        pool.forEach(blocks, b -> {
            int j0 = b * V_BLOCK;
            int j1 = Math.min(v, j0 + V_BLOCK);
            for (int j = j0; j < j1; j++) {
                kernels.scale(z, j * size, size, factor, 0);
            }
            // The one-hot part: a token's target row lies in exactly one block.
            for (int i = 0; i < size; i++) {
                if (target[i] >= j0 && target[i] < j1) {
                    z[target[i] * size + i] -= scale;
                }
            }
            if (biasSums != null) {
                for (int j = j0; j < j1; j++) {
                    double s = biasSums[j];
                    for (int i = 0, at = j * size; i < size; i++) {
                        s += z[at + i];
                    }
                    biasSums[j] = s;
                }
            }
        });
        if (dHidden != null) {
            // dh [size, d] = g [size, V] · W [V, d], with g stored transposed (A transposed, lda = size).
            float[] dh = ws.dh;
            gemm.gemm(true, false, size, d, v, 1f, z, 0, size, w, wOff, d, 0f, dh, 0, d);
            for (int i = 0; i < size; i++) {
                System.arraycopy(dh, i * d, dHidden.array(), dHidden.offset() + counted[start + i] * d, d);
            }
        }
        if (dW != null) {
            // dW [V, d] += gᵀ [V, size] · h [size, d]
            gemm.gemm(false, false, v, d, size, 1f, z, 0, size, h, 0, d, 1f, dW.array(), dW.offset(), d);
        }
        return loss;
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
    private Workspace workspace(int rows, int v, int d, boolean biasSums) {
        Workspace ws = retained.getAndSet(null);
        if (ws == null || !ws.fits(rows, v, d)) {
            ws = new Workspace(rows, v, d);
        }
        ws.prepareBiasSums(biasSums ? v : 0);
        return ws;
    }

    /** Floats (and doubles) held by the kept workspace, for tests of the memory bound. */
    long retainedBytes() {
        Workspace ws = retained.get();
        return ws == null ? 0 : ws.bytes();
    }

    /** One call's scratch: a chunk's logits, its rows, and the per-token statistics. */
    private static final class Workspace {
        final float[] logits;
        final float[] h;
        final float[] dh;
        final float[] maxes;
        final float[] sums;
        final float[] max;
        final float[] picked;
        final float[] factor;
        final int[] target;
        double[] biasSums;

        Workspace(int rows, int v, int d) {
            logits = new float[Math.multiplyExact(rows, v)];
            h = new float[Math.multiplyExact(rows, d)];
            dh = new float[h.length];
            int blocks = Math.ceilDiv(v, V_BLOCK);
            maxes = new float[Math.multiplyExact(blocks, rows)];
            sums = new float[maxes.length];
            max = new float[rows];
            picked = new float[rows];
            factor = new float[rows];
            target = new int[rows];
        }

        boolean fits(int rows, int v, int d) {
            return logits.length >= (long) rows * v && h.length >= (long) rows * d && max.length >= rows
                    && maxes.length >= (long) Math.ceilDiv(v, V_BLOCK) * rows;
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
            long floats = (long) logits.length + h.length + dh.length + maxes.length + sums.length + max.length
                    + picked.length + factor.length + target.length;
            return floats * Float.BYTES + (biasSums == null ? 0 : (long) biasSums.length * Double.BYTES);
        }
    }

    private static Span<float[]> f32(DeviceTensor t) {
        return ((CpuTensor) t).f32();
    }
}
