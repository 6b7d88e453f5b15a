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
 * {@link RowChunks} run on the worker pool; within a row, {@link NormKernels} do the arithmetic (Vector
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
    private final NormKernels kernels;

    CpuNormalization(CpuEngine engine, WorkerPool pool) {
        this(engine, pool, Simd.available() ? VectorNormKernels.create() : ScalarNormKernels.INSTANCE);
    }

    /** With given kernels, so tests can run the scalar and vector twins side by side. */
    CpuNormalization(CpuEngine engine, WorkerPool pool, NormKernels kernels) {
        this.engine = engine;
        this.pool = pool;
        this.kernels = kernels;
    }

    @Override
    public NormResult forward(NormRequest request) {
        Shape shape = request.input().shape();
        int c = shape.dim(-1);
        boolean layerNorm = request.kind() == NormKind.LAYER_NORM;
        float[] x = floats(request.input());
        float[] r = request.residual() == null ? null : floats(request.residual());
        float alpha = (float) request.residualScale();
        float[] gamma = floats(request.gamma());
        float[] beta = request.beta() == null ? null : floats(request.beta());
        double eps = request.eps();

        Outputs out = new Outputs();
        try {
            CpuTensor y = out.add(shape);
            CpuTensor mean = layerNorm ? out.add(request.statsShape()) : null;
            CpuTensor rstd = out.add(request.statsShape());
            CpuTensor sum = r == null ? null : out.add(shape);
            float[] ya = y.floats();
            float[] meanA = mean == null ? null : mean.floats();
            float[] rstdA = rstd.floats();
            float[] h = sum == null ? x : sum.floats();

            RowChunks chunks = RowChunks.of(Math.toIntExact(request.rows()), c);
            pool.forEach(chunks.count(), k -> {
                for (int row = chunks.start(k), end = chunks.end(k); row < end; row++) {
                    int off = row * c;
                    if (r != null) {
                        kernels.residualSum(x, r, alpha, h, off, c);
                    }
                    float m = 0;
                    float spread;
                    if (layerNorm) {
                        m = h[off] + kernels.sumAbout(h, off, c, h[off]) / c;
                        spread = kernels.centredSquares(h, off, c, m);
                    } else {
                        spread = kernels.squares(h, off, c);
                    }
                    float rs = rstd(spread / c, eps);
                    kernels.normalize(h, off, c, m, rs, gamma, beta, ya);
                    if (meanA != null) {
                        meanA[row] = m;
                    }
                    rstdA[row] = rs;
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
        float[] h = floats(request.normalizedInput());
        float[] dy = floats(request.dy());
        float[] dSum = request.dSum() == null ? null : floats(request.dSum());
        float[] meanA = layerNorm ? floats(request.saved().mean()) : null;
        float[] rstdA = floats(request.saved().rstd());
        float[] gamma = floats(fwd.gamma());
        boolean withBeta = fwd.beta() != null;
        float alpha = (float) fwd.residualScale();

        Outputs out = new Outputs();
        try {
            CpuTensor dInput = out.add(shape);
            CpuTensor dResidual = fwd.residual() == null ? null : out.add(shape);
            CpuTensor dGamma = out.add(Shape.of(c));
            CpuTensor dBeta = withBeta ? out.add(Shape.of(c)) : null;
            float[] dh = dInput.floats();
            float[] dr = dResidual == null ? null : dResidual.floats();

            RowChunks chunks = RowChunks.of(Math.toIntExact(fwd.rows()), c);
            float[][] gammaParts = new float[chunks.count()][];
            float[][] betaParts = new float[chunks.count()][];
            pool.forEach(chunks.count(), k -> {
                float[] pg = new float[c];
                float[] pb = withBeta ? new float[c] : null;
                float[] sums = new float[2];
                for (int row = chunks.start(k), end = chunks.end(k); row < end; row++) {
                    int off = row * c;
                    float m = layerNorm ? meanA[row] : 0;
                    float rs = rstdA[row];
                    kernels.gradientSums(dy, h, off, c, m, rs, gamma, pg, pb, sums);
                    float a = layerNorm ? sums[0] / c : 0;
                    float b = sums[1] / c;
                    kernels.inputGradient(dy, h, off, c, m, rs, gamma, a, b, dSum, dh, dr, alpha);
                }
                gammaParts[k] = pg;
                betaParts[k] = pb;
            });
            combine(gammaParts, dGamma.floats());
            if (dBeta != null) {
                combine(betaParts, dBeta.floats());
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
    private static void combine(float[][] parts, float[] into) {
        double[] acc = new double[into.length];
        for (float[] part : parts) {
            for (int j = 0; j < acc.length; j++) {
                acc[j] += part[j];
            }
        }
        for (int j = 0; j < acc.length; j++) {
            into[j] = (float) acc[j];
        }
    }

    private static float[] floats(DeviceTensor t) {
        return ((CpuTensor) t).floats();
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
