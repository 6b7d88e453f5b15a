package dev.attn4j.backend.cpu;

import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationPort;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * Activations and gated linear units on the CPU (F32). Plain activations run over the flat tensor in
 * {@link WorkerPool#RANGE}-sized pieces, and so does a split GLU; a concatenated GLU's rows of {@code 2F} inputs are
 * split into {@link RowChunks}. The
 * arithmetic is {@link ActivationMath}'s, in the Vector API twin when enabled. Every element depends on its own
 * inputs only, so results are the same for any thread count.
 *
 * <pre>{@code
 * DeviceTensor h = new CpuActivation(engine, pool).glu(new GluRequest(Activation.SILU, upGate));   // SwiGLU
 * }</pre>
 */
final class CpuActivation implements ActivationPort {
    private final CpuEngine engine;
    private final WorkerPool pool;
    private final ActivationKernels kernels;

    CpuActivation(CpuEngine engine, WorkerPool pool) {
        this(engine, pool, ActivationKernels.get());
    }

    /** With given kernels, so tests can run the scalar and vector twins side by side. */
    CpuActivation(CpuEngine engine, WorkerPool pool, ActivationKernels kernels) {
        this.engine = engine;
        this.pool = pool;
        this.kernels = kernels;
    }

    @Override
    public DeviceTensor forward(ActivationRequest request) {
        Activation f = request.function();
        Span<float[]> x = f32(request.x());
        CpuTensor out = engine.newOutput(request.x().shape());
        try {
            Span<float[]> y = out.f32();
            pool.forRanges(x.length(), (from, to) ->
                    kernels.forward(f, x.array(), x.offset() + from, y.array(), y.offset() + from, to - from));
            return engine.handOut(out, "activation forward");
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    @Override
    public DeviceTensor backward(ActivationBackwardRequest request) {
        Activation f = request.forward().function();
        Span<float[]> x = f32(request.forward().x());
        Span<float[]> dy = f32(request.dy());
        CpuTensor out = engine.newOutput(request.dy().shape());
        try {
            Span<float[]> dx = out.f32();
            pool.forRanges(x.length(), (from, to) -> kernels.backward(f, x.array(), x.offset() + from, dy.array(),
                    dy.offset() + from, dx.array(), dx.offset() + from, to - from));
            return engine.handOut(out, "activation backward");
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    @Override
    public DeviceTensor glu(GluRequest request) {
        Activation f = request.gate();
        int half = request.halfWidth();
        Span<float[]> x = f32(request.x());
        CpuTensor out = engine.newOutput(request.outputShape());
        try {
            Span<float[]> y = out.f32();
            if (request.isSplit()) {
                // Value and gate are each one unbroken run: flat ranges, as a plain activation.
                Span<float[]> g = f32(request.gateInput());
                pool.forRanges(x.length(), (from, to) -> kernels.glu(f, x.array(), x.offset() + from, g.array(),
                        g.offset() + from, y.array(), y.offset() + from, to - from));
            } else {
                int rows = x.length() / (2 * half);
                RowChunks chunks = RowChunks.of(rows, 2 * half);
                pool.forEach(chunks.count(), k -> {
                    for (int row = chunks.start(k), end = chunks.end(k); row < end; row++) {
                        int a = x.offset() + row * 2 * half;
                        kernels.glu(f, x.array(), a, x.array(), a + half, y.array(), y.offset() + row * half, half);
                    }
                });
            }
            return engine.handOut(out, "GLU forward");
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    @Override
    public DeviceTensor gluBackward(GluBackwardRequest request) {
        GluRequest forward = request.forward();
        Activation f = forward.gate();
        int half = forward.halfWidth();
        Span<float[]> x = f32(forward.x());
        Span<float[]> dy = f32(request.dy());
        CpuTensor out = engine.newOutput(forward.gradientShape());
        try {
            Span<float[]> dx = out.f32();
            if (forward.isSplit()) {
                // dx [2, ..., F]: the value's gradient, then the gate's, each as long as dy.
                Span<float[]> g = f32(forward.gateInput());
                int n = dy.length();
                pool.forRanges(n, (from, to) -> kernels.gluBackward(f, x.array(), x.offset() + from, g.array(),
                        g.offset() + from, dy.array(), dy.offset() + from, dx.array(), dx.offset() + from,
                        dx.offset() + n + from, to - from));
            } else {
                int rows = x.length() / (2 * half);
                RowChunks chunks = RowChunks.of(rows, 2 * half);
                pool.forEach(chunks.count(), k -> {
                    for (int row = chunks.start(k), end = chunks.end(k); row < end; row++) {
                        int at = row * 2 * half;
                        int a = x.offset() + at;
                        int da = dx.offset() + at;
                        kernels.gluBackward(f, x.array(), a, x.array(), a + half, dy.array(),
                                dy.offset() + row * half, dx.array(), da, da + half, half);
                    }
                });
            }
            return engine.handOut(out, "GLU backward");
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    private static Span<float[]> f32(DeviceTensor t) {
        return ((CpuTensor) t).f32();
    }
}
