package dev.attn4j.backend.cpu;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.elementwise.ElementwisePort;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.elementwise.TokenShiftRequest;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.Arrays;

/**
 * The element-wise port on the CPU (F32): flat loops in {@link WorkerPool#RANGE}-sized pieces, row loops in
 * {@link RowChunks}, the arithmetic in {@link ElementwiseKernels} (Vector API when enabled).
 *
 * <p>Deterministic whatever the thread count: element-wise results depend on their own inputs only; the broadcast
 * backward's per-row sums are one row each ({@link ElementwiseKernels#dot}, a fixed order), and its per-column sums
 * are accumulated in double per row chunk — a split that depends on the shape only — and the chunks added in chunk
 * order.
 *
 * <p>In-place writes ({@link #axpy}, the broadcast backward's vector gradient) reject inputs that share storage
 * with what they write, other than {@code axpy}'s {@code x} being exactly {@code y}: the facade cannot see that two
 * views overlap, and an overlapping read would depend on the vector width and the thread split.
 */
final class CpuElementwise implements ElementwisePort {
    private final CpuEngine engine;
    private final WorkerPool pool;
    private final ElementwiseKernels kernels;

    CpuElementwise(CpuEngine engine, WorkerPool pool) {
        this(engine, pool, ElementwiseKernels.get());
    }

    /** With given kernels, so tests can run the scalar and vector twins side by side. */
    CpuElementwise(CpuEngine engine, WorkerPool pool, ElementwiseKernels kernels) {
        this.engine = engine;
        this.pool = pool;
        this.kernels = kernels;
    }

    @Override
    public DeviceTensor add(AddRequest request) {
        Span<float[]> a = f32(request.a());
        Span<float[]> b = f32(request.b());
        float alpha = request.alpha();
        CpuTensor out = engine.newOutput(request.a().shape());
        try {
            Span<float[]> y = out.f32();
            pool.forRanges(a.length(), (from, to) -> kernels.add(a.array(), a.offset() + from, b.array(),
                    b.offset() + from, alpha, y.array(), y.offset() + from, to - from));
            return engine.handOut(out, "add");
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    @Override
    public void axpy(AxpyRequest request) {
        Span<float[]> x = f32(request.x());
        Span<float[]> y = f32(request.y());
        requireApart("y", y, "x", x, true);
        float alpha = request.alpha();
        pool.forRanges(x.length(), (from, to) ->
                kernels.axpy(alpha, x.array(), x.offset() + from, y.array(), y.offset() + from, to - from));
    }

    @Override
    public void scale(ScaleRequest request) {
        Span<float[]> x = f32(request.x());
        float alpha = request.alpha();
        pool.forRanges(x.length(), (from, to) ->
                kernels.scale(x.array(), x.offset() + from, alpha, x.array(), x.offset() + from, to - from));
    }

    @Override
    public DeviceTensor multiply(BroadcastMultiplyRequest request) {
        CpuTensor out = engine.newOutput(request.x().shape());
        try {
            multiplyInto(request, f32(request.x()), out.f32());
            return engine.handOut(out, "broadcast multiply");
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /** {@code y = src ⊙ v}, row by row ({@code src} is {@code x} forward, {@code dy} backward). */
    private void multiplyInto(BroadcastMultiplyRequest request, Span<float[]> src, Span<float[]> y) {
        int cols = request.x().shape().dim(-1);
        int rows = src.length() / cols;
        Span<float[]> v = f32(request.v());
        boolean columns = request.axis() == BroadcastAxis.COLUMNS;
        RowChunks chunks = RowChunks.of(rows, cols);
        pool.forEach(chunks.count(), k -> {
            for (int row = chunks.start(k), end = chunks.end(k); row < end; row++) {
                int at = row * cols;
                if (columns) {
                    kernels.multiply(src.array(), src.offset() + at, v.array(), v.offset(), y.array(), y.offset() + at,
                            cols);
                } else {
                    kernels.scale(src.array(), src.offset() + at, v.array()[v.offset() + row], y.array(),
                            y.offset() + at, cols);
                }
            }
        });
    }

    @Override
    public DeviceTensor multiplyBackward(BroadcastMultiplyBackwardRequest request) {
        BroadcastMultiplyRequest fwd = request.forward();
        Span<float[]> x = f32(fwd.x());
        Span<float[]> dy = f32(request.dy());
        Span<float[]> grad = request.vectorGrad() == null ? null : f32(request.vectorGrad());
        if (grad != null) {
            requireApart("vectorGrad", grad, "x", x, false);
            requireApart("vectorGrad", grad, "dy", dy, false);
            requireApart("vectorGrad", grad, "v", f32(fwd.v()), false);
        }
        CpuTensor dx = request.inputGrad() ? engine.newOutput(fwd.x().shape()) : null;
        try {
            if (dx != null) {
                multiplyInto(fwd, dy, dx.f32());
            }
            if (grad != null) {
                int cols = fwd.x().shape().dim(-1);
                if (fwd.axis() == BroadcastAxis.ROWS) {
                    rowGradient(x, dy, grad, cols);
                } else {
                    columnGradient(x, dy, grad, cols);
                }
            }
            if (dx == null) {
                engine.requireOpen("broadcast multiply backward");
                return null;
            }
            return engine.handOut(dx, "broadcast multiply backward");
        } catch (RuntimeException | Error e) {
            if (dx != null) {
                dx.close();
            }
            throw e;
        }
    }

    /** {@code grad[r] += Σ_c dy[r, c]·x[r, c]}: one fixed-order dot per row, added to the float once. */
    private void rowGradient(Span<float[]> x, Span<float[]> dy, Span<float[]> grad, int cols) {
        int rows = x.length() / cols;
        RowChunks chunks = RowChunks.of(rows, cols);
        pool.forEach(chunks.count(), k -> {
            for (int row = chunks.start(k), end = chunks.end(k); row < end; row++) {
                int at = row * cols;
                double sum = kernels.dot(dy.array(), dy.offset() + at, x.array(), x.offset() + at, cols);
                int g = grad.offset() + row;
                grad.array()[g] = (float) (grad.array()[g] + sum);
            }
        });
    }

    /** {@code grad[c] += Σ_r dy[r, c]·x[r, c]}: double partial sums per row chunk, added in chunk order. */
    private void columnGradient(Span<float[]> x, Span<float[]> dy, Span<float[]> grad, int cols) {
        int rows = x.length() / cols;
        RowChunks chunks = RowChunks.of(rows, cols);
        double[][] parts = new double[chunks.count()][];
        pool.forEach(chunks.count(), k -> {
            double[] part = new double[cols];
            for (int row = chunks.start(k), end = chunks.end(k); row < end; row++) {
                int at = row * cols;
                kernels.accumulateProducts(dy.array(), dy.offset() + at, x.array(), x.offset() + at, part, 0, cols);
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
        float[] g = grad.array();
        for (int c = 0; c < cols; c++) {
            int at = grad.offset() + c;
            g[at] = (float) (g[at] + sum[c]);
        }
    }

    /**
     * Row {@code (b, t)} takes features {@code [begin, begin + count)} from token {@code t − amount} of its row
     * when that token exists and is in the same document (and neither is padding), else zeros; the other
     * features are copied. {@code t − amount} is formed in long: {@code amount} may be near ±2³¹.
     */
    @Override
    public DeviceTensor shiftTokens(TokenShiftRequest request) {
        Span<float[]> x = f32(request.x());
        Span<int[]> seg = request.segments() == null ? null : ((CpuTensor) request.segments()).i32();
        int seq = request.x().shape().dim(1);
        int cols = request.x().shape().dim(2);
        int rows = request.x().shape().dim(0) * seq;
        int begin = request.begin();
        int count = request.count();
        int end = begin + count;
        long amount = request.amount();
        CpuTensor out = engine.newOutput(request.x().shape());
        try {
            Span<float[]> y = out.f32();
            float[] xa = x.array();
            float[] ya = y.array();
            RowChunks chunks = RowChunks.of(rows, cols);
            pool.forEach(chunks.count(), k -> {
                for (int row = chunks.start(k), last = chunks.end(k); row < last; row++) {
                    int t = row % seq;
                    int xAt = x.offset() + row * cols;
                    int yAt = y.offset() + row * cols;
                    System.arraycopy(xa, xAt, ya, yAt, begin);
                    System.arraycopy(xa, xAt + end, ya, yAt + end, cols - end);
                    long src = t - amount;
                    boolean inRow = src >= 0 && src < seq;
                    if (inRow && seg != null) {
                        int first = seg.offset() + row - t;
                        int id = seg.array()[first + t];
                        inRow = id >= 0 && seg.array()[first + (int) src] == id;
                    }
                    if (inRow) {
                        System.arraycopy(xa, x.offset() + (row - t + (int) src) * cols + begin, ya, yAt + begin, count);
                    } else {
                        Arrays.fill(ya, yAt + begin, yAt + end, 0f);
                    }
                }
            });
            return engine.handOut(out, "token shift");
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /**
     * Rejects two spans that share storage elements (with {@code identicalOk}, unless they are exactly the same
     * elements): before anything is written.
     */
    static void requireApart(String written, Span<?> out, String read, Span<?> in, boolean identicalOk) {
        boolean bad = identicalOk ? out.overlapsPartly(in) : out.overlaps(in);
        InvalidRequestException.check(!bad, written, "storage apart from " + read + "'s"
                        + (identicalOk ? " (or the very same elements)" : ""),
                "views sharing elements [" + Math.max(out.offset(), in.offset()) + ", "
                        + Math.min(out.end(), in.end()) + ") of one array");
    }

    private static Span<float[]> f32(DeviceTensor t) {
        return ((CpuTensor) t).f32();
    }
}
