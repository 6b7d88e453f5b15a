package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.spi.DeviceTensorBase;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.lang.ref.Cleaner;

/**
 * A tensor kept on the device: a block of the engine's float heap (F32) or int heap (I32, and BOOL as 0/1), see
 * {@link DeviceHeap}. Closing it returns the block to its heap; so does the garbage collector for a tensor that
 * was dropped unclosed, since blocks leaked in a fixed-size heap would make it grow (and recompile its kernels).
 */
final class TornadoTensor extends DeviceTensorBase<DeviceHeap.Block> {
    /**
     * One cleaner thread for every engine in the JVM: its action waits for the engine's lock, so it may sit out a
     * running kernel, which only delays reclaiming, never blocks a caller.
     */
    private static final Cleaner CLEANER = Cleaner.create();

    private final Cleaner.Cleanable release;
    private final TornadoEngine owner;

    TornadoTensor(TornadoEngine engine, Shape shape, DType dtype, DeviceHeap.Block block) {
        super(TornadoEngine.NAME, shape, dtype, block);
        this.owner = engine;
        // The action holds the engine and the block, never this tensor, and runs at most once.
        this.release = CLEANER.register(this, () -> engine.release(block));
    }

    /** The engine that made this tensor. */
    TornadoEngine owner() {
        return owner;
    }

    /** The block holding the values. */
    DeviceHeap.Block block() {
        return handle();
    }

    /** Where the values start in their heap: what the kernels' {@code meta} offsets hold. */
    int offset() {
        return handle().offset();
    }

    /**
     * Where a tensor of this engine starts in its heap; 0 for an absent one, whose flag in {@code meta} makes the
     * kernels ignore whatever they read there.
     */
    static int at(DeviceTensor t) {
        return t == null ? 0 : ((TornadoTensor) t).offset();
    }

    @Override
    public void close() {
        if (detach() != null) {
            owner.forget(this);
            release.clean();
        }
    }
}
