package dev.attn4j.backend.cpu;

import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearPort;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.linear.WeightLayout;
import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * The linear port on the CPU (F32): every product is one {@link CpuGemm} call on the tensors' spans (views at any
 * offset), with the leading dimensions of {@code x} flattened into rows.
 *
 * <ul>
 *   <li>forward: {@code y = x·Wᵀ} ({@code NT}) for {@link WeightLayout#OUT_IN}, {@code x·W} ({@code NN}) for
 *       {@link WeightLayout#IN_OUT}. A bias is written into {@code y} first and the product added to it
 *       ({@code beta = 1}), so no second pass over {@code y} is needed;</li>
 *   <li>backward: {@code dx = dy·W} ({@code NN}, or {@code NT} for {@code IN_OUT}); {@code dW += dyᵀ·x}
 *       ({@code TN} with {@code beta = 1}, or {@code xᵀ·dy} for {@code IN_OUT}), so the accumulator's value starts
 *       each element's fma chain; {@code db += Σ_rows dy}. A product whose result is not asked for is not run;</li>
 *   <li>matmul: one strided-batch call, a batch-1 operand given stride 0.</li>
 * </ul>
 *
 * <p>Deterministic whatever the thread count: the GEMM keeps each element one fma chain in a fixed order
 * ({@link CpuGemm}), and {@code db}'s column sums are accumulated in double per {@link RowChunks} chunk (a split that
 * depends on the shape only) and the chunks added in chunk order.
 *
 * <p>Accumulators and {@code C} are written while the inputs are read, so they must not share storage with them:
 * the facade cannot see that two views overlap, and this port rejects it before writing anything.
 */
final class CpuLinear implements LinearPort {
    private final CpuEngine engine;
    private final WorkerPool pool;
    private final CpuGemm gemm;

    CpuLinear(CpuEngine engine, WorkerPool pool, CpuGemm gemm) {
        this.engine = engine;
        this.pool = pool;
        this.gemm = gemm;
    }

    @Override
    public DeviceTensor forward(LinearRequest request) {
        Span<float[]> x = f32(request.x());
        Span<float[]> w = f32(request.weight());
        Span<float[]> b = request.bias() == null ? null : f32(request.bias());
        int in = request.inFeatures();
        int out = request.outFeatures();
        int rows = Math.toIntExact(request.rows());
        boolean outIn = request.layout() == WeightLayout.OUT_IN;
        CpuTensor result = engine.newOutput(request.outputShape());
        try {
            Span<float[]> y = result.f32();
            if (b != null) {
                RowChunks chunks = RowChunks.of(rows, out);
                pool.forEach(chunks.count(), k -> {
                    for (int r = chunks.start(k), end = chunks.end(k); r < end; r++) {
                        System.arraycopy(b.array(), b.offset(), y.array(), y.offset() + r * out, out);
                    }
                });
            }
            // OUT_IN: W [out, in] is op(B)ᵀ, ldb = in; IN_OUT: W [in, out] is op(B) itself, ldb = out.
            gemm.gemm(false, outIn, rows, out, in, 1f, x.array(), x.offset(), in, w.array(), w.offset(),
                    outIn ? in : out, b == null ? 0f : 1f, y.array(), y.offset(), out);
            return engine.handOut(result, "linear forward");
        } catch (RuntimeException | Error e) {
            result.close();
            throw e;
        }
    }

    @Override
    public DeviceTensor backward(LinearBackwardRequest request) {
        LinearRequest fwd = request.forward();
        Span<float[]> x = f32(fwd.x());
        Span<float[]> w = f32(fwd.weight());
        Span<float[]> dy = f32(request.dy());
        Span<float[]> dW = request.weightGrad() == null ? null : f32(request.weightGrad());
        Span<float[]> db = request.biasGrad() == null ? null : f32(request.biasGrad());
        if (dW != null) {
            CpuElementwise.requireApart("weightGrad", dW, "x", x, false);
            CpuElementwise.requireApart("weightGrad", dW, "weight", w, false);
            CpuElementwise.requireApart("weightGrad", dW, "dy", dy, false);
        }
        if (db != null) {
            CpuElementwise.requireApart("biasGrad", db, "dy", dy, false);
            if (dW != null) {
                CpuElementwise.requireApart("biasGrad", db, "weightGrad", dW, false);
            }
        }
        int in = fwd.inFeatures();
        int out = fwd.outFeatures();
        int rows = Math.toIntExact(fwd.rows());
        boolean outIn = fwd.layout() == WeightLayout.OUT_IN;
        CpuTensor dx = request.inputGrad() ? engine.newOutput(fwd.x().shape()) : null;
        try {
            if (dx != null) {
                Span<float[]> g = dx.f32();
                // dx [rows, in] = dy [rows, out] · W [out, in]; for IN_OUT the weight is Wᵀ's storage.
                gemm.gemm(false, !outIn, rows, in, out, 1f, dy.array(), dy.offset(), out, w.array(), w.offset(),
                        outIn ? in : out, 0f, g.array(), g.offset(), in);
            }
            if (dW != null) {
                if (outIn) {
                    // dW [out, in] += dyᵀ [out, rows] · x [rows, in]
                    gemm.gemm(true, false, out, in, rows, 1f, dy.array(), dy.offset(), out, x.array(), x.offset(), in,
                            1f, dW.array(), dW.offset(), in);
                } else {
                    // dW [in, out] += xᵀ [in, rows] · dy [rows, out]
                    gemm.gemm(true, false, in, out, rows, 1f, x.array(), x.offset(), in, dy.array(), dy.offset(), out,
                            1f, dW.array(), dW.offset(), out);
                }
            }
            if (db != null) {
                addColumnSums(dy, rows, out, db);
            }
            if (dx == null) {
                engine.requireOpen("linear backward");
                return null;
            }
            return engine.handOut(dx, "linear backward");
        } catch (RuntimeException | Error e) {
            if (dx != null) {
                dx.close();
            }
            throw e;
        }
    }

    /** {@code acc[c] += Σ_r m[r, c]}: double partial sums per row chunk, added in chunk order, rounded once. */
    private void addColumnSums(Span<float[]> m, int rows, int cols, Span<float[]> acc) {
        RowChunks chunks = RowChunks.of(rows, cols);
        double[][] parts = new double[chunks.count()][];
        float[] a = m.array();
        pool.forEach(chunks.count(), k -> {
            double[] part = new double[cols];
            for (int r = chunks.start(k), end = chunks.end(k); r < end; r++) {
                int at = m.offset() + r * cols;
                for (int c = 0; c < cols; c++) {
                    part[c] += a[at + c];
                }
            }
            parts[k] = part;
        });
        double[] sum = parts[0];
        for (int k = 1; k < parts.length; k++) {
            double[] part = parts[k];
            for (int c = 0; c < cols; c++) {
                sum[c] += part[c];
            }
        }
        float[] g = acc.array();
        for (int c = 0; c < cols; c++) {
            int at = acc.offset() + c;
            g[at] = (float) (g[at] + sum[c]);
        }
    }

    @Override
    public void matmul(MatmulRequest request) {
        Span<float[]> a = f32(request.a());
        Span<float[]> b = f32(request.b());
        Span<float[]> c = f32(request.c());
        CpuElementwise.requireApart("c", c, "a", a, false);
        CpuElementwise.requireApart("c", c, "b", b, false);
        int m = request.m();
        int n = request.n();
        int k = request.k();
        int batch = request.batch();
        // Stored A is [M, K] ([K, M] transposed), B [K, N] ([N, K]); a batch-1 operand is shared (stride 0).
        int lda = request.transposeA() ? m : k;
        int ldb = request.transposeB() ? k : n;
        long strideA = batch > 1 && !MatmulRequest.shared(request.a()) ? (long) m * k : 0;
        long strideB = batch > 1 && !MatmulRequest.shared(request.b()) ? (long) k * n : 0;
        gemm.gemmBatched(request.transposeA(), request.transposeB(), m, n, k, request.alpha(), a.array(), a.offset(),
                lda, b.array(), b.offset(), ldb, request.beta(), c.array(), c.offset(), n, batch, strideA, strideB,
                (long) m * n);
        engine.requireOpen("matmul");
    }

    private static Span<float[]> f32(DeviceTensor t) {
        return ((CpuTensor) t).f32();
    }
}
