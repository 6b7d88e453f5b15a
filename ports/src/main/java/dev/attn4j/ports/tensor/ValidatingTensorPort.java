package dev.attn4j.ports.tensor;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.PortGuard;
import dev.attn4j.ports.PortGuard.IntRange;

import java.util.Objects;

/**
 * The tensor port as callers see it: every transfer and device-side operation checked (arguments, element
 * counts, declared dtypes and operations, ownership and liveness) before the engine's port is called.
 * {@link dev.attn4j.ports.Backend} wraps each engine's tensor port in one.
 *
 * <pre>{@code
 * TensorPort checked = new ValidatingTensorPort(guard, engine.tensors());
 * }</pre>
 */
public final class ValidatingTensorPort implements TensorPort {
    private final PortGuard guard;
    private final TensorPort engine;

    /**
     * A port that checks each request with {@code guard}, then passes it to {@code engine}.
     *
     * @param guard  the backend's checks
     * @param engine the engine's raw tensor port
     */
    public ValidatingTensorPort(PortGuard guard, TensorPort engine) {
        this.guard = Objects.requireNonNull(guard, "guard");
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    private TensorCapabilities caps() {
        return guard.capabilities().require(guard.backendName(), TensorCapabilities.class, "tensor");
    }

    private void requireFloating(String argument, DType dtype) {
        InvalidRequestException.check(dtype != null && dtype.isFloating(), argument, "F32, F16 or BF16", dtype);
        caps().require(guard.backendName(), dtype);
    }

    private static void requireLength(int length, Shape shape) {
        InvalidRequestException.check(length == shape.elementCount(), "data",
                shape.elementCount() + " elements for shape " + shape, length);
    }

    private static void requireShape(Shape shape) {
        InvalidRequestException.check(shape != null, "shape", "a shape", "null");
        InvalidRequestException.check(shape.elementCount() <= Integer.MAX_VALUE, "shape",
                "at most " + Integer.MAX_VALUE + " elements", shape.elementCount());
    }

    @Override
    public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
        guard.requireOpen();
        InvalidRequestException.check(data != null, "data", "an array", "null");
        requireShape(shape);
        requireFloating("dtype", dtype);
        requireLength(data.length, shape);
        return engine.upload(data, shape, dtype);
    }

    @Override
    public DeviceTensor uploadInts(int[] data, Shape shape) {
        guard.requireOpen();
        InvalidRequestException.check(data != null, "data", "an array", "null");
        requireShape(shape);
        requireLength(data.length, shape);
        DeviceTensor t = engine.uploadInts(data, shape);
        guard.recordIntRange(t, IntRange.of(data));
        return t;
    }

    @Override
    public DeviceTensor uploadBools(boolean[] data, Shape shape) {
        guard.requireOpen();
        InvalidRequestException.check(data != null, "data", "an array", "null");
        requireShape(shape);
        requireLength(data.length, shape);
        return engine.uploadBools(data, shape);
    }

    @Override
    public DeviceTensor zeros(Shape shape, DType dtype) {
        guard.requireOpen();
        requireShape(shape);
        InvalidRequestException.check(dtype != null, "dtype", "a dtype", "null");
        if (dtype.isFloating()) {
            caps().require(guard.backendName(), dtype);
        }
        DeviceTensor t = engine.zeros(shape, dtype);
        if (dtype == DType.I32) {
            guard.recordIntRange(t, IntRange.constant(0));
        }
        return t;
    }

    @Override
    public DeviceTensor allocate(Shape shape, DType dtype) {
        guard.requireOpen();
        requireShape(shape);
        requireFloating("dtype", dtype);
        return engine.allocate(shape, dtype);
    }

    @Override
    public float[] download(DeviceTensor tensor) {
        guard.requireUsable("tensor", tensor);
        InvalidRequestException.check(tensor.dtype().isFloating(), "tensor", "a floating dtype (use downloadInts/Bools)",
                tensor.dtype());
        return engine.download(tensor);
    }

    @Override
    public int[] downloadInts(DeviceTensor tensor) {
        guard.requireUsable("tensor", tensor);
        InvalidRequestException.check(tensor.dtype() == DType.I32, "tensor", "dtype I32", tensor.dtype());
        return engine.downloadInts(tensor);
    }

    @Override
    public boolean[] downloadBools(DeviceTensor tensor) {
        guard.requireUsable("tensor", tensor);
        InvalidRequestException.check(tensor.dtype() == DType.BOOL, "tensor", "dtype BOOL", tensor.dtype());
        return engine.downloadBools(tensor);
    }

    @Override
    public DeviceTensor view(DeviceTensor base, long offset, Shape shape) {
        guard.requireUsable("base", base);
        requireShape(shape);
        TensorCapabilities caps = caps();
        caps.require(guard.backendName(), TensorFeature.VIEW);
        long count = base.shape().elementCount();
        InvalidRequestException.check(offset >= 0 && offset <= count, "offset", "in [0, " + count + "]", offset);
        InvalidRequestException.check(shape.elementCount() <= count - offset, "shape",
                "at most " + (count - offset) + " elements (base " + base.shape() + " from offset " + offset + ")",
                shape + " = " + shape.elementCount() + " elements");
        InvalidRequestException.check(offset % caps.viewAlignment() == 0, "offset",
                "a multiple of " + caps.viewAlignment() + " elements (backend '" + guard.backendName()
                        + "' aligns views)", offset);
        DeviceTensor view = engine.view(base, offset, shape);
        if (base.dtype() == DType.I32) {
            guard.recordIntRange(view, guard.intRange(base));
        }
        return view;
    }

    @Override
    public void copy(CopyRequest request) {
        InvalidRequestException.check(request != null, "request", "a CopyRequest", "null");
        guard.requireUsable(request.tensors());
        caps().require(guard.backendName(), TensorFeature.COPY);
        if (request.dst().dtype().isFloating()) {
            caps().require(guard.backendName(), request.dst().dtype());
        }
        if (request.dst().dtype() == DType.I32) {
            // Views share storage, so after writing ints every remembered range may be stale: forget them
            // all (the next check reads the device once).
            guard.forgetIntRanges();
        }
        engine.copy(request);
    }

    @Override
    public DeviceTensor cast(DeviceTensor source, DType dtype) {
        guard.requireUsable("source", source);
        InvalidRequestException.check(source.dtype().isFloating(), "source", "a floating dtype", source.dtype());
        requireFloating("dtype", dtype);
        caps().require(guard.backendName(), TensorFeature.CAST);
        caps().require(guard.backendName(), source.dtype());
        return engine.cast(source, dtype);
    }

    @Override
    public void fill(DeviceTensor tensor, float value) {
        guard.requireUsable("tensor", tensor);
        InvalidRequestException.check(tensor.dtype().isFloating(), "tensor", "a floating dtype", tensor.dtype());
        caps().require(guard.backendName(), TensorFeature.FILL);
        engine.fill(tensor, value);
    }
}
