package dev.attn4j.backend.cpu;

import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * LayerNorm and RMSNorm on the CPU, plain or fused with a scaled residual (DeepNorm). Rows are split into
 * {@link RowChunks} run on the worker pool; within a row, {@link CpuNormKernels} do the arithmetic (Vector
 * API when enabled). Statistics are fp32: the mean is summed about the row's first value and the
 * variance by the corrected two-pass formula, so rows far from zero keep their digits; rows are small
 * enough to stay in cache between the passes.
 *
 * <p>Backward: with {@code x̂ = (h - mean)·rstd} and {@code g = dy·γ},
 * {@code dh = rstd·(g - mean(g) - x̂·mean(g·x̂)) + dSum} (RMSNorm drops {@code mean(g)}),
 * {@code dInput = dh}, {@code dResidual = α·dh}, {@code dγ = Σ_rows dy·x̂}, {@code dβ = Σ_rows dy}.
 * The column sums are accumulated per chunk and combined in chunk order, so they are bit-identical
 * whatever the thread count.
 */
final class CpuNormalization implements NormalizationPort {
    private final CpuEngine engine;
    private final WorkerPool pool;
    private final CpuNormKernels kernels;

    CpuNormalization(CpuEngine engine, WorkerPool pool) {
        this(engine, pool, CpuKernels.selected().norm());
    }

    /** With given kernels, so tests can run the scalar and vector twins side by side. */
    CpuNormalization(CpuEngine engine, WorkerPool pool, CpuNormKernels kernels) {
        this.engine = engine;
        this.pool = pool;
        this.kernels = kernels;
    }

    @Override
    public NormResult forward(NormRequest request) {
        Shape shape = request.input().shape();
        int c = shape.dim(-1);
        boolean layerNorm = request.kind() == NormKind.LAYER_NORM;
        Span<float[]> x = f32(request.input());
        Span<float[]> r = request.residual() == null ? null : f32(request.residual());
        float alpha = (float) request.residualScale();
        Span<float[]> gamma = f32(request.gamma());
        Span<float[]> beta = request.beta() == null ? null : f32(request.beta());
        float[] ga = gamma.array();
        float[] ba = beta == null ? null : beta.array();
        int bOff = beta == null ? 0 : beta.offset();
        double eps = request.eps();

        Outputs out = new Outputs();
        try {
            CpuTensor y = out.add(shape);
            CpuTensor mean = layerNorm ? out.add(request.statsShape()) : null;
            CpuTensor rstd = out.add(request.statsShape());
            CpuTensor sum = r == null ? null : out.add(shape);
            Span<float[]> ys = y.f32();
            Span<float[]> means = mean == null ? null : mean.f32();
            Span<float[]> rstds = rstd.f32();
            // h is the normalised row: the input itself, or the residual sum written into its own tensor.
            Span<float[]> hs = sum == null ? x : sum.f32();
            float[] h = hs.array();

            RowChunks chunks = RowChunks.of(Math.toIntExact(request.rows()), c);
            pool.forEach(chunks.count(), k -> {
                for (int row = chunks.start(k), end = chunks.end(k); row < end; row++) {
                    int at = row * c;
                    int hOff = hs.offset() + at;
                    if (r != null) {
                        kernels.residualSum(x.array(), x.offset() + at, r.array(), r.offset() + at, alpha, h, hOff, c);
                    }
                    float m = 0;
                    float spread;
                    if (layerNorm) {
                        m = h[hOff] + kernels.sumAbout(h, hOff, c, h[hOff]) / c;
                        spread = kernels.centredSquares(h, hOff, c, m);
                    } else {
                        spread = kernels.squares(h, hOff, c);
                    }
                    float rs = rstd(spread / c, eps);
                    kernels.normalize(h, hOff, c, m, rs, ga, gamma.offset(), ba, bOff, ys.array(), ys.offset() + at);
                    if (means != null) {
                        means.array()[means.offset() + row] = m;
                    }
                    rstds.array()[rstds.offset() + row] = rs;
                }
            });
            engine.requireOpen("norm forward");
            return out.keep(new NormResult(y, mean, rstd, sum));
        } finally {
            out.closeUnlessKept();
        }
    }

    @Override
    public NormGradients backward(NormBackwardRequest request) {
        NormRequest fwd = request.forward();
        Shape shape = fwd.input().shape();
        int c = shape.dim(-1);
        boolean layerNorm = fwd.kind() == NormKind.LAYER_NORM;
        Span<float[]> h = f32(request.normalizedInput());
        Span<float[]> dy = f32(request.dy());
        Span<float[]> dSum = request.dSum() == null ? null : f32(request.dSum());
        Span<float[]> means = layerNorm ? f32(request.saved().mean()) : null;
        Span<float[]> rstds = f32(request.saved().rstd());
        Span<float[]> gamma = f32(fwd.gamma());
        float[] dsa = dSum == null ? null : dSum.array();
        int dsOff = dSum == null ? 0 : dSum.offset();
        boolean withBeta = fwd.beta() != null;
        float alpha = (float) fwd.residualScale();

        Outputs out = new Outputs();
        try {
            CpuTensor dInput = out.add(shape);
            CpuTensor dResidual = fwd.residual() == null ? null : out.add(shape);
            CpuTensor dGamma = out.add(Shape.of(c));
            CpuTensor dBeta = withBeta ? out.add(Shape.of(c)) : null;
            Span<float[]> dh = dInput.f32();
            Span<float[]> dr = dResidual == null ? null : dResidual.f32();
            float[] dra = dr == null ? null : dr.array();
            int drOff = dr == null ? 0 : dr.offset();

            RowChunks chunks = RowChunks.of(Math.toIntExact(fwd.rows()), c);
            float[][] gammaParts = new float[chunks.count()][];
            float[][] betaParts = new float[chunks.count()][];
            pool.forEach(chunks.count(), k -> {
                float[] pg = new float[c];
                float[] pb = withBeta ? new float[c] : null;
                float[] sums = new float[2];
                for (int row = chunks.start(k), end = chunks.end(k); row < end; row++) {
                    int at = row * c;
                    float m = layerNorm ? means.array()[means.offset() + row] : 0;
                    float rs = rstds.array()[rstds.offset() + row];
                    kernels.gradientSums(dy.array(), dy.offset() + at, h.array(), h.offset() + at, c, m, rs,
                            gamma.array(), gamma.offset(), pg, pb, sums);
                    float a = layerNorm ? sums[0] / c : 0;
                    float b = sums[1] / c;
                    kernels.inputGradient(dy.array(), dy.offset() + at, h.array(), h.offset() + at, c, m, rs,
                            gamma.array(), gamma.offset(), a, b, dsa, dsOff + at, dh.array(), dh.offset() + at, dra,
                            drOff + at, alpha);
                }
                gammaParts[k] = pg;
                betaParts[k] = pb;
            });
            combine(gammaParts, dGamma.f32());
            if (dBeta != null) {
                combine(betaParts, dBeta.f32());
            }
            engine.requireOpen("norm backward");
            return out.keep(new NormGradients(dInput, dResidual, dGamma, dBeta));
        } finally {
            out.closeUnlessKept();
        }
    }

    /** {@code 1/sqrt(variance + eps)}, rounded once to fp32 (a negative rounding residue counts as 0). */
    static float rstd(float variance, double eps) {
        return (float) (1.0 / Math.sqrt(Math.max(variance, 0f) + eps));
    }

    /** Sums the per-chunk partials in chunk order (in double, then rounded once). */
    private static void combine(float[][] parts, Span<float[]> into) {
        double[] acc = new double[into.length()];
        for (float[] part : parts) {
            for (int j = 0; j < acc.length; j++) {
                acc[j] += part[j];
            }
        }
        for (int j = 0; j < acc.length; j++) {
            into.array()[into.offset() + j] = (float) acc[j];
        }
    }

    private static Span<float[]> f32(DeviceTensor t) {
        return ((CpuTensor) t).f32();
    }

    /** Tensors allocated for one call: closed again if the call fails before handing them out. */
    private final class Outputs {
        private final List<CpuTensor> made = new ArrayList<>(4);
        private boolean kept;

        CpuTensor add(Shape shape) {
            CpuTensor t = engine.newFloats(shape);
            made.add(t);
            return t;
        }

        <T> T keep(T result) {
            kept = true;
            return result;
        }

        void closeUnlessKept() {
            if (!kept) {
                made.forEach(CpuTensor::close);
            }
        }
    }
}
