package dev.attn4j.backend.opencl;

import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import static dev.attn4j.backend.opencl.ClAttention.buf;

/** Rotary / xPos on OpenCL ({@code rotary.cl}): one work-item per element of {@code x}. */
final class ClRotary implements RotaryPort {
    private static final String SOURCE = "rotary.cl";

    private final OpenClEngine engine;

    ClRotary(OpenClEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor apply(RotaryRequest r) {
        synchronized (engine) {
            engine.requireOpen();
            ClTensor y = engine.allocate(r.x().shape(), DType.F32);
            try {
                long count = r.x().shape().elementCount();
                new KernelCall(engine.kernel(SOURCE, "", "rotary"))
                        .mem(buf(r.x())).mem(buf(r.cos())).mem(buf(r.sin()))
                        .mem(r.scale() != null ? buf(r.scale()) : engine.placeholder()).i(r.scale() != null ? 1 : 0)
                        .i(r.x().shape().dim(1)).i(r.x().shape().dim(2)).i(r.x().shape().dim(3)).i(r.rotaryDim() / 2)
                        .i(r.layout() == RotaryLayout.SPLIT_HALF ? 1 : 0).i(r.inverse() ? 1 : 0)
                        .mem(y.buffer()).l(count)
                        .run(engine.queue(), new long[] {(count + 63) / 64 * 64}, null);
                return y;
            } catch (RuntimeException e) {
                y.close();
                throw ClAttention.translate(e, "rotary");
            }
        }
    }
}
