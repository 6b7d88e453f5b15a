package dev.attn4j.backend.tornado.engine;

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
import dev.attn4j.ports.tensor.Shape;

import static dev.attn4j.backend.tornado.engine.ModelKernels.*;
import static dev.attn4j.backend.tornado.engine.TornadoTensor.at;

/**
 * The element-wise port on TornadoVM (F32), {@link ModelKernels}: one work item per element for add, axpy, scale,
 * the broadcast product and token shift; the broadcast backward's vector gradient is one item per column (or row)
 * summing in order, added to the accumulator once (deterministic, no atomics). In-place writes refuse inputs that
 * share storage with what they write (views), other than axpy's {@code x} being exactly {@code y}.
 */
final class TornadoElementwise implements ElementwisePort {
    private final TornadoEngine engine;
    private final TornadoTensors tensors;

    TornadoElementwise(TornadoEngine engine, TornadoTensors tensors) {
        this.engine = engine;
        this.tensors = tensors;
    }

    @Override
    public DeviceTensor add(AddRequest r) {
        long n = r.a().shape().elementCount();
        return launch(r.a().shape(), (heap, y) -> new HeapCall(heap, DeviceHeap.Op.AXPBY).set(MODE, ADD)
                .set(N, Math.toIntExact(n)).set(A_AT, at(r.a())).set(B_AT, at(r.b())).set(C_AT, y)
                .f(F0, r.alpha()).run(64, n));
    }

    @Override
    public void axpy(AxpyRequest r) {
        InvalidRequestException.check(!((TornadoTensor) r.y()).overlapsPartly((TornadoTensor) r.x()), "y",
                "storage apart from x's (or the very same elements)", "a view sharing part of x's storage");
        long n = r.x().shape().elementCount();
        synchronized (engine) {
            // y = alpha·x + y, element by element: x may be y itself.
            new HeapCall(engine.heap(), DeviceHeap.Op.AXPBY).set(MODE, ADD).set(N, Math.toIntExact(n))
                    .set(A_AT, at(r.y())).set(B_AT, at(r.x())).set(C_AT, at(r.y())).f(F0, r.alpha()).run(64, n);
        }
    }

    @Override
    public void scale(ScaleRequest r) {
        long n = r.x().shape().elementCount();
        synchronized (engine) {
            new HeapCall(engine.heap(), DeviceHeap.Op.AXPBY).set(MODE, SCALE).set(N, Math.toIntExact(n))
                    .set(A_AT, at(r.x())).set(C_AT, at(r.x())).f(F0, r.alpha()).run(64, n);
        }
    }

    @Override
    public DeviceTensor multiply(BroadcastMultiplyRequest r) {
        return launch(r.x().shape(), (heap, y) -> multiplyInto(heap, r, at(r.x()), y));
    }

    /** {@code y = src ⊙ v} ({@code src} is x forward, dy backward). */
    private static void multiplyInto(DeviceHeap heap, BroadcastMultiplyRequest r, int src, int y) {
        long n = r.x().shape().elementCount();
        new HeapCall(heap, DeviceHeap.Op.AXPBY).set(MODE, r.axis() == BroadcastAxis.COLUMNS ? MUL_COLUMNS : MUL_ROWS)
                .set(N, Math.toIntExact(n)).set(COLS, Math.max(1, r.x().shape().dim(-1))).set(A_AT, src)
                .set(B_AT, at(r.v())).set(C_AT, y).run(64, n);
    }

    @Override
    public DeviceTensor multiplyBackward(BroadcastMultiplyBackwardRequest r) {
        BroadcastMultiplyRequest fwd = r.forward();
        TornadoTensor.apart("vectorGrad", r.vectorGrad(), fwd.x(), r.dy(), fwd.v());
        int cols = fwd.x().shape().dim(-1);
        int rows = cols == 0 ? 0 : Math.toIntExact(fwd.x().shape().elementCount() / cols);
        synchronized (engine) {
            Made made = new Made();
            try {
                TornadoTensor dx = r.inputGrad() ? made.add(tensors.allocate(fwd.x().shape())) : null;
                DeviceHeap heap = engine.heap();
                if (dx != null) {
                    multiplyInto(heap, fwd, at(r.dy()), dx.offset());
                }
                if (r.vectorGrad() != null) {
                    boolean columns = fwd.axis() == BroadcastAxis.COLUMNS;
                    // grad[c] += Σ_r dy·x (columns) or grad[r] += Σ_c dy·x (rows), in order
                    new HeapCall(heap, columns ? DeviceHeap.Op.COLUMN_DOTS : DeviceHeap.Op.ROW_DOTS).set(MODE, 1)
                            .set(A_AT, at(fwd.x())).set(B_AT, at(r.dy())).set(ROWS, rows).set(COLS, cols)
                            .set(D_AT, at(r.vectorGrad())).run(64, columns ? cols : rows);
                }
                return dx;
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            }
        }
    }

    @Override
    public DeviceTensor shiftTokens(TokenShiftRequest r) {
        Shape s = r.x().shape();
        long n = s.elementCount();
        DeviceTensor seg = r.segments();
        return launch(s, (heap, y) -> new HeapCall(heap, DeviceHeap.Op.TOKEN_SHIFT).set(N, Math.toIntExact(n))
                .set(A_AT, at(r.x())).set(B_AT, at(seg)).set(I3, seg != null ? 1 : 0).set(ROWS, Math.max(1, s.dim(1)))
                .set(COLS, Math.max(1, s.dim(2))).set(I0, r.begin()).set(I1, r.count()).set(I2, r.amount())
                .set(C_AT, y).run(64, n));
    }

    /** What writes a new tensor: the heap and where the output starts. */
    private interface Kernel {
        void run(DeviceHeap heap, int out);
    }

    /** A new tensor of {@code shape} written by {@code kernel}; closed again if the launch fails. */
    private DeviceTensor launch(Shape shape, Kernel kernel) {
        synchronized (engine) {
            Made made = new Made();
            try {
                TornadoTensor out = made.add(tensors.allocate(shape));
                kernel.run(engine.heap(), out.offset());
                return out;
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            }
        }
    }
}
