package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.UnsupportedCapabilityException;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/** Uploads into and downloads from TornadoVM's off-heap arrays; F32 floats only (see the capabilities). */
final class TornadoTensors implements TensorPort {
    private final TornadoEngine engine;

    TornadoTensors(TornadoEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
        requireF32(dtype);
        return engine.track(new TornadoTensor(shape, dtype, FloatArray.fromArray(data)));
    }

    @Override
    public DeviceTensor uploadInts(int[] data, Shape shape) {
        return engine.track(new TornadoTensor(shape, DType.I32, IntArray.fromArray(data)));
    }

    @Override
    public DeviceTensor uploadBools(boolean[] data, Shape shape) {
        ByteArray bytes = new ByteArray(Math.max(1, data.length));
        for (int i = 0; i < data.length; i++) {
            bytes.set(i, data[i] ? (byte) 1 : (byte) 0);
        }
        return engine.track(new TornadoTensor(shape, DType.BOOL, bytes));
    }

    @Override
    public DeviceTensor zeros(Shape shape, DType dtype) {
        return switch (dtype) {
            case I32 -> uploadInts(new int[Math.toIntExact(shape.elementCount())], shape);
            case BOOL -> uploadBools(new boolean[Math.toIntExact(shape.elementCount())], shape);
            default -> {
                requireF32(dtype);
                FloatArray a = new FloatArray(Math.toIntExact(shape.elementCount()));
                a.init(0.0f);
                yield engine.track(new TornadoTensor(shape, dtype, a));
            }
        };
    }

    /** A new F32 tensor that takes over {@code storage}. */
    DeviceTensor wrap(FloatArray storage, Shape shape) {
        return engine.track(new TornadoTensor(shape, DType.F32, storage));
    }

    @Override
    public float[] download(DeviceTensor tensor) {
        return ((TornadoTensor) tensor).storage(FloatArray.class).toHeapArray();
    }

    @Override
    public int[] downloadInts(DeviceTensor tensor) {
        return ((TornadoTensor) tensor).storage(IntArray.class).toHeapArray();
    }

    @Override
    public boolean[] downloadBools(DeviceTensor tensor) {
        ByteArray bytes = ((TornadoTensor) tensor).storage(ByteArray.class);
        boolean[] out = new boolean[Math.toIntExact(tensor.shape().elementCount())];
        for (int i = 0; i < out.length; i++) {
            out[i] = bytes.get(i) != 0;
        }
        return out;
    }

    private static void requireF32(DType dtype) {
        if (dtype != DType.F32) {
            throw new UnsupportedCapabilityException(TornadoEngine.NAME, "dtype " + dtype);
        }
    }
}
