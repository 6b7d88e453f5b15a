package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.spi.DeviceTensorBase;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * A tensor kept on the device: a block of the engine's float heap (F32) or int heap (I32, and BOOL as 0/1), see
 * {@link DeviceHeap}. Closing it returns the block to its heap.
 */
final class TornadoTensor extends DeviceTensorBase<DeviceHeap.Block> {
    private final TornadoEngine engine;

    TornadoTensor(TornadoEngine engine, Shape shape, DType dtype, DeviceHeap.Block block) {
        super(TornadoEngine.NAME, shape, dtype, block);
        this.engine = engine;
    }

    /** The block holding the values. */
    DeviceHeap.Block block() {
        return handle();
    }

    /** Where the values start in their heap: what the kernels' {@code meta} offsets hold. */
    int offset() {
        return handle().offset();
    }

    /** Where a tensor of this engine starts in its heap; 0 for an absent one (a kernel reads nothing of it then). */
    static int at(DeviceTensor t) {
        return t == null ? 0 : ((TornadoTensor) t).offset();
    }

    @Override
    public void close() {
        DeviceHeap.Block block = detach();
        if (block != null) {
            engine.release(block);
        }
    }
}
