package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import static dev.attn4j.backend.tornado.engine.TornadoTensor.at;
import static dev.attn4j.backend.tornado.engine.RotaryKernels.*;

/** Rotary / xPos on TornadoVM (see {@link RotaryKernels}), from and into the device heaps. */
final class TornadoRotary implements RotaryPort {
    private final TornadoEngine engine;
    private final TornadoTensors tensors;

    TornadoRotary(TornadoEngine engine, TornadoTensors tensors) {
        this.engine = engine;
        this.tensors = tensors;
    }

    @Override
    public DeviceTensor apply(RotaryRequest r) {
        Shape shape = r.x().shape();
        int count = Math.toIntExact(shape.elementCount());
        synchronized (engine) {
            TornadoTensor y = tensors.allocate(shape);
            DeviceHeap heap = engine.heap();
            IntArray meta = heap.meta(DeviceHeap.Op.ROTARY);
            meta.set(COUNT, count);
            meta.set(SEQ, shape.dim(1));
            meta.set(HEADS, shape.dim(2));
            meta.set(DIM, shape.dim(3));
            meta.set(PAIRS, r.rotaryDim() / 2);
            meta.set(SPLIT_HALF, r.layout() == RotaryLayout.SPLIT_HALF ? 1 : 0);
            meta.set(INVERSE, r.inverse() ? 1 : 0);
            meta.set(HAS_SCALE, r.scale() != null ? 1 : 0);
            meta.set(X_AT, at(r.x()));
            meta.set(COS_AT, at(r.cos()));
            meta.set(SIN_AT, at(r.sin()));
            meta.set(SCALE_AT, at(r.scale()));
            meta.set(Y_AT, y.offset());
            try {
                heap.run(DeviceHeap.Op.ROTARY, 64, count);
            } catch (RuntimeException | Error e) {
                y.close();
                throw e;
            }
            return y;
        }
    }
}
