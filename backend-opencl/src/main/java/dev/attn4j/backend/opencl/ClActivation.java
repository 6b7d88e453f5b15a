package dev.attn4j.backend.opencl;

import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationPort;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import static dev.attn4j.backend.opencl.ClAttention.buf;

/**
 * Activations and GLUs on OpenCL (F32), {@code ops.cl}'s {@code act_*} and {@code glu_*}: one work-item per output
 * element, each depending on its own inputs only. A GLU's kernels read the value and the gate's input through two
 * buffer arguments with a row stride, so the concatenated form ({@code x} twice) and the split form (two tensors)
 * share them. Exact GELU through OpenCL's {@code erfc} (the tail form, so negative
 * inputs keep their digits), the logistic forms as the cpu backend's {@code ActivationMath}.
 */
final class ClActivation implements ActivationPort {
    private final OpenClEngine engine;

    ClActivation(OpenClEngine engine) {
        this.engine = engine;
    }

    /** {@code ops.cl}'s code of a function. */
    static int code(Activation f) {
        return switch (f) {
            case GELU -> 0;
            case GELU_TANH -> 1;
            case SILU -> 2;
            case RELU -> 3;
        };
    }

    @Override
    public DeviceTensor forward(ActivationRequest r) {
        long n = r.x().shape().elementCount();
        return launch(r.x().shape(), "activation forward", y ->
                engine.ops().run(engine.ops().call("act_fwd").i(code(r.function())).mem(buf(r.x())).mem(y).l(n), n));
    }

    @Override
    public DeviceTensor backward(ActivationBackwardRequest r) {
        long n = r.dy().shape().elementCount();
        return launch(r.dy().shape(), "activation backward", dx ->
                engine.ops().run(engine.ops().call("act_bwd").i(code(r.forward().function())).mem(buf(r.forward().x()))
                        .mem(buf(r.dy())).mem(dx).l(n), n));
    }

    @Override
    public DeviceTensor glu(GluRequest r) {
        Shape shape = r.outputShape();
        long n = shape.elementCount();
        return launch(shape, "GLU forward", y ->
                engine.ops().run(inputs(engine.ops().call("glu_fwd").i(code(r.gate())), r).mem(y).l(n)
                        .i(r.halfWidth()).i(r.rowStride()).l(r.gateOffset()), n));
    }

    @Override
    public DeviceTensor gluBackward(GluBackwardRequest r) {
        GluRequest fwd = r.forward();
        long n = r.dy().shape().elementCount();
        return launch(fwd.gradientShape(), "GLU backward", dx ->
                engine.ops().run(inputs(engine.ops().call("glu_bwd").i(code(fwd.gate())), fwd).mem(buf(r.dy()))
                        .mem(dx).l(n).i(fwd.halfWidth()).i(fwd.rowStride()).l(fwd.gateOffset())
                        .l(fwd.gradientGateOffset()), n));
    }

    /** The value's and the gate's buffers: {@code x}'s twice when concatenated, as the kernels read both read-only. */
    private static KernelCall inputs(KernelCall call, GluRequest r) {
        return call.mem(buf(r.x())).mem(buf(r.gateTensor()));
    }

    /** A new F32 tensor of {@code shape} written by {@code kernel}; closed again if the launch fails. */
    private DeviceTensor launch(Shape shape, String doing, java.util.function.Consumer<org.jocl.cl_mem> kernel) {
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
