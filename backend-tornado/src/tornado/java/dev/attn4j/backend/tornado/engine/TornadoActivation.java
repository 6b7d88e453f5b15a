package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationPort;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import static dev.attn4j.backend.tornado.engine.ModelKernels.*;
import static dev.attn4j.backend.tornado.engine.TornadoTensor.at;

/**
 * Activations and GLUs on TornadoVM (F32), {@link ModelKernels#activation}: one work item per output element, each
 * depending on its own inputs only. Exact GELU through the cpu backend's normal-tail polynomial, the logistic forms
 * as its {@code ActivationMath}. A GLU's value and gate's input are two heap offsets with a row stride, so the
 * concatenated form (one tensor, the gate {@code F} on) and the split form (two tensors) share the kernel.
 */
final class TornadoActivation implements ActivationPort {
    private final TornadoEngine engine;
    private final TornadoTensors tensors;

    TornadoActivation(TornadoEngine engine, TornadoTensors tensors) {
        this.engine = engine;
        this.tensors = tensors;
    }

    /** {@link ModelKernels}' code of a function. */
    static int code(Activation f) {
        return switch (f) {
            case GELU -> GELU;
            case GELU_TANH -> GELU_TANH;
            case SILU -> SILU;
            case RELU -> RELU;
        };
    }

    @Override
    public DeviceTensor forward(ActivationRequest r) {
        return launch(r.x().shape(), ACT_FORWARD, r.function(), r.x(), null, r.x().shape().elementCount());
    }

    @Override
    public DeviceTensor backward(ActivationBackwardRequest r) {
        return launch(r.dy().shape(), ACT_BACKWARD, r.forward().function(), r.forward().x(), r.dy(),
                r.dy().shape().elementCount());
    }

    @Override
    public DeviceTensor glu(GluRequest r) {
        Shape shape = r.outputShape();
        return gluLaunch(shape, GLU_FORWARD, r, null, shape.elementCount());
    }

    @Override
    public DeviceTensor gluBackward(GluBackwardRequest r) {
        return gluLaunch(r.forward().gradientShape(), GLU_BACKWARD, r.forward(), r.dy(), r.dy().shape().elementCount());
    }

    /** A new tensor of {@code shape} written by the kernel over {@code n} items; closed again if the launch fails. */
    private DeviceTensor launch(Shape shape, int mode, Activation f, DeviceTensor x, DeviceTensor dy, long n) {
        synchronized (engine) {
            Made made = new Made();
            try {
                TornadoTensor out = made.add(tensors.allocate(shape));
                new HeapCall(engine.heap(), DeviceHeap.Op.ACTIVATION).set(MODE, mode).set(I0, code(f))
                        .set(N, Math.toIntExact(n)).set(A_AT, at(x)).set(B_AT, at(dy)).set(C_AT, out.offset())
                        .run(64, n);
                return out;
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            }
        }
    }

    /**
     * A GLU's launch over {@code n} output items: the value at {@code x}, the gate's input {@code F} further on in
     * each row of {@code x} (concatenated) or in its own tensor (split), rows {@code x}'s last dimension apart; the
     * backward's gate gradient beside the value's in each row (concatenated) or the block after all of them (split).
     */
    private DeviceTensor gluLaunch(Shape shape, int mode, GluRequest r, DeviceTensor dy, long n) {
        int half = r.halfWidth();
        synchronized (engine) {
            Made made = new Made();
            try {
                TornadoTensor out = made.add(tensors.allocate(shape));
                int gate = Math.addExact(at(r.gateTensor()), r.gateOffset());
                int dGate = Math.addExact(out.offset(), Math.toIntExact(r.gradientGateOffset()));
                new HeapCall(engine.heap(), DeviceHeap.Op.ACTIVATION).set(MODE, mode).set(I0, code(r.gate()))
                        .set(N, Math.toIntExact(n)).set(COLS, half).set(I1, r.rowStride())
                        .set(A_AT, at(r.x())).set(D_AT, gate).set(B_AT, at(dy)).set(C_AT, out.offset())
                        .set(I2, dGate).run(64, n);
                return out;
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            }
        }
    }
}
