package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.spi.DeviceTensorBase;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

/**
 * A tensor whose values live off the Java heap in a TornadoVM array ({@code FloatArray} for F32,
 * {@code IntArray} for I32, {@code ByteArray} of 0/1 for BOOL), the form TornadoVM's execution plans move
 * to and from the device.
 */
final class TornadoTensor extends DeviceTensorBase<Object> {

    TornadoTensor(Shape shape, DType dtype, Object storage) {
        super(TornadoEngine.NAME, shape, dtype, storage);
    }

    /** The storage, as the kernels take it. */
    <T> T storage(Class<T> type) {
        return type.cast(handle());
    }

    @Override
    public void close() {
        detach();
    }
}
