package dev.attn4j.backend.cpu;

import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * Rotary / xPos on the CPU, as {@link RotaryRequest} defines it. The {@code B·S} rows of {@code H·D}
 * features are split into {@link RowChunks} run on the worker pool; within a head, {@link RotaryKernels}
 * do the arithmetic (Vector API when enabled).
 *
 * <p>Per position the table row is folded once into coefficients shared by every head of the row
 * ({@link #coefficients}), so each rotated feature costs two products and a sum. Forward and inverse
 * differ only by the sign of the sine coefficients, an exact flip: the inverse is the exact transpose
 * of the forward's matrix, i.e. its backward. Features beyond {@code R} are copied unchanged.
 *
 * <pre>{@code
 * DeviceTensor qRot = new CpuRotary(engine, pool).apply(new RotaryRequest(q, cos, sin, null, RotaryLayout.SPLIT_HALF, false));
 * }</pre>
 */
final class CpuRotary implements RotaryPort {
    private final CpuEngine engine;
    private final WorkerPool pool;
    private final RotaryKernels kernels;

    CpuRotary(CpuEngine engine, WorkerPool pool) {
        this(engine, pool, CpuKernels.selected().rotary());
    }

    /** With given kernels, so tests can run the scalar and vector twins side by side. */
    CpuRotary(CpuEngine engine, WorkerPool pool, RotaryKernels kernels) {
        this.engine = engine;
        this.pool = pool;
        this.kernels = kernels;
    }

    @Override
    public DeviceTensor apply(RotaryRequest request) {
        Shape shape = request.x().shape();
        int seq = shape.dim(1);
        int d = shape.dim(3);
        int rowLength = shape.dim(2) * d;
        int rows = shape.dim(0) * seq;
        int r = request.rotaryDim();
        Span<float[]> x = f32(request.x());
        Span<float[]> cos = f32(request.cos());
        Span<float[]> sin = f32(request.sin());
        Span<float[]> scale = request.scale() == null ? null : f32(request.scale());
        RotaryLayout layout = request.layout();
        boolean inverse = request.inverse();

        CpuTensor out = engine.newOutput(shape);
        try {
            Span<float[]> y = out.f32();
            float[] xa = x.array();
            float[] ya = y.array();
            RowChunks chunks = RowChunks.of(rows, rowLength);
            pool.forEach(chunks.count(), k -> {
                float[] alpha = new float[r];
                float[] beta = new float[r];
                for (int row = chunks.start(k), end = chunks.end(k); row < end; row++) {
                    coefficients(cos, sin, scale, row % seq, r, layout, inverse, alpha, beta);
                    for (int at = row * rowLength, rowEnd = at + rowLength; at < rowEnd; at += d) {
                        int xOff = x.offset() + at;
                        int yOff = y.offset() + at;
                        if (layout == RotaryLayout.INTERLEAVED) {
                            kernels.interleaved(xa, xOff, ya, yOff, r, alpha, beta);
                        } else {
                            kernels.splitHalf(xa, xOff, ya, yOff, r, alpha, beta);
                        }
                        if (r < d) {
                            System.arraycopy(xa, xOff + r, ya, yOff + r, d - r);
                        }
                    }
                }
            });
            return engine.handOut(out, "rotary");
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /**
     * The coefficients of position {@code n}, in feature order: for pair {@code p} at features
     * {@code (i₁, i₂)}, {@code α[i₁] = α[i₂] = ζ·cos}, {@code β[i₁] = ∓ζ·sin}, {@code β[i₂] = ±ζ·sin}
     * (upper signs forward, lower inverse), so that {@code y[i] = x[i]·α[i] + x[partner]·β[i]} is the
     * request's formula. {@code ζ = 1} without a scale table.
     */
    static void coefficients(Span<float[]> cos, Span<float[]> sin, Span<float[]> scale, int n, int r,
                             RotaryLayout layout, boolean inverse, float[] alpha, float[] beta) {
        int half = r / 2;
        int from = n * half;
        float[] ca = cos.array();
        float[] sa = sin.array();
        int co = cos.offset() + from;
        int so = sin.offset() + from;
        for (int p = 0; p < half; p++) {
            float z = scale == null ? 1f : scale.array()[scale.offset() + from + p];
            float c = z * ca[co + p];
            float s = z * sa[so + p];
            if (inverse) {
                s = -s;
            }
            int first = layout == RotaryLayout.INTERLEAVED ? 2 * p : p;
            int second = layout == RotaryLayout.INTERLEAVED ? 2 * p + 1 : p + half;
            alpha[first] = c;
            alpha[second] = c;
            beta[first] = -s;
            beta[second] = s;
        }
    }

    private static Span<float[]> f32(DeviceTensor t) {
        return ((CpuTensor) t).f32();
    }
}
