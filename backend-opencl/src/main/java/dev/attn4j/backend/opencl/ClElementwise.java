package dev.attn4j.backend.opencl;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.elementwise.ElementwisePort;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.elementwise.TokenShiftRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.jocl.cl_mem;

import java.util.function.Consumer;

import static dev.attn4j.backend.opencl.ClAttention.buf;

/**
 * The element-wise port on OpenCL (F32), {@code ops.cl}: one work-item per element for add, axpy, scale, the
 * broadcast product and token shift; the broadcast backward's vector gradient is one work-item per column (or row)
 * summing in order, added to the accumulator once (deterministic, no atomics).
 *
 * <p>In-place writes (axpy, the vector gradient) refuse inputs that share storage with what they write, other than
 * axpy's {@code x} being exactly {@code y}: the facade cannot see that two views overlap, and an overlapping read
 * would depend on the schedule.
 */
final class ClElementwise implements ElementwisePort {
    private final OpenClEngine engine;

    ClElementwise(OpenClEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor add(AddRequest r) {
        long n = r.a().shape().elementCount();
        return launch(r.a().shape(), "add", y -> engine.ops().run(engine.ops().call("add").mem(buf(r.a())).mem(buf(r.b()))
                .f(r.alpha()).mem(y).l(n), n));
    }

    @Override
    public void axpy(AxpyRequest r) {
        ClTensor x = (ClTensor) r.x();
        ClTensor y = (ClTensor) r.y();
        InvalidRequestException.check(!y.overlapsPartly(x), "y", "storage apart from x's (or the very same elements)",
                "a view sharing part of x's storage");
        long n = x.shape().elementCount();
        run("axpy", () -> engine.ops().run(engine.ops().call("axpy").f(r.alpha()).mem(x.buffer()).mem(y.buffer()).l(n), n));
    }

    @Override
    public void scale(ScaleRequest r) {
        long n = r.x().shape().elementCount();
        run("scale", () -> engine.ops().run(engine.ops().call("scale").mem(buf(r.x())).f(r.alpha()).l(n), n));
    }

    @Override
    public DeviceTensor multiply(BroadcastMultiplyRequest r) {
        return launch(r.x().shape(), "broadcast multiply", y -> multiplyInto(r, buf(r.x()), y));
    }

    /** {@code y = src ⊙ v} ({@code src} is x forward, dy backward). */
    private void multiplyInto(BroadcastMultiplyRequest r, cl_mem src, cl_mem y) {
        long n = r.x().shape().elementCount();
        int cols = r.x().shape().dim(-1);
        engine.ops().run(engine.ops().call("bcast_mul").mem(src).mem(buf(r.v()))
                .i(r.axis() == BroadcastAxis.COLUMNS ? 1 : 0).i(cols).mem(y).l(n), n);
    }

    @Override
    public DeviceTensor multiplyBackward(BroadcastMultiplyBackwardRequest r) {
        BroadcastMultiplyRequest fwd = r.forward();
        ClTensor grad = (ClTensor) r.vectorGrad();
        if (grad != null) {
            ClLinear.apart("vectorGrad", grad, fwd.x(), r.dy(), fwd.v());
        }
        int cols = fwd.x().shape().dim(-1);
        int rows = Math.toIntExact(fwd.x().shape().elementCount() / cols);
        synchronized (engine) {
            engine.requireOpen();
            ClTensor dx = r.inputGrad() ? engine.allocate(fwd.x().shape(), DType.F32) : null;
            try {
                if (dx != null) {
                    multiplyInto(fwd, buf(r.dy()), dx.buffer());
                }
                if (grad != null) {
                    boolean columns = fwd.axis() == BroadcastAxis.COLUMNS;
                    engine.ops().run(engine.ops().call(columns ? "bcast_grad_cols" : "bcast_grad_rows").mem(buf(fwd.x()))
                            .mem(buf(r.dy())).i(rows).i(cols).mem(grad.buffer()), columns ? cols : rows);
                }
                return dx;
            } catch (RuntimeException e) {
                if (dx != null) {
                    dx.close();
                }
                throw ClAttention.translate(e, "broadcast multiply backward");
            }
        }
    }

    @Override
    public DeviceTensor shiftTokens(TokenShiftRequest r) {
        Shape s = r.x().shape();
        long n = s.elementCount();
        DeviceTensor seg = r.segments();
        return launch(s, "token shift", y -> engine.ops().run(engine.ops().call("token_shift").mem(buf(r.x()))
                .mem(seg != null ? buf(seg) : engine.placeholder()).i(seg != null ? 1 : 0).i(s.dim(1)).i(s.dim(2))
                .i(r.begin()).i(r.count()).l(r.amount()).mem(y).l(n), n));
    }

    private void run(String doing, Runnable kernel) {
        synchronized (engine) {
            engine.requireOpen();
            try {
                kernel.run();
            } catch (RuntimeException e) {
                throw ClAttention.translate(e, doing);
            }
        }
    }

    private DeviceTensor launch(Shape shape, String doing, Consumer<cl_mem> kernel) {
        synchronized (engine) {
            engine.requireOpen();
            ClTensor out = engine.allocate(shape, DType.F32);
            try {
                kernel.accept(out.buffer());
                return out;
            } catch (RuntimeException e) {
                out.close();
                throw ClAttention.translate(e, doing);
            }
        }
    }
}
