package dev.attn4j.ports.spi;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The bookkeeping every backend's tensor shares: shape, dtype, owner name, and one native or heap handle
 * (a {@code float[]}, a {@code cl_mem}, a device pointer) that is present while the tensor is open. Closing
 * is a single atomic {@link #detach()}: exactly one caller gets the handle to free, however many threads
 * close the tensor or its engine at once.
 *
 * <pre>{@code
 * final class ClTensor extends DeviceTensorBase<cl_mem> {
 *     ClTensor(Shape shape, DType dtype, cl_mem buffer) { super("opencl", shape, dtype, buffer); }
 *     public void close() { cl_mem b = detach(); if (b != null) clReleaseMemObject(b); }
 * }
 * }</pre>
 *
 * @param <H> the handle's type
 */
public abstract class DeviceTensorBase<H> implements DeviceTensor {
    private final String backend;
    private final Shape shape;
    private final DType dtype;
    private final AtomicReference<H> handle;

    /**
     * A tensor over {@code handle}, open until {@link #close()}.
     *
     * @param backend the owning backend's name
     * @param shape   the shape
     * @param dtype   the element type
     * @param handle  the storage; must not be {@code null}
     */
    protected DeviceTensorBase(String backend, Shape shape, DType dtype, H handle) {
        if (handle == null) {
            throw new IllegalArgumentException("a tensor needs its storage handle");
        }
        this.backend = backend;
        this.shape = shape;
        this.dtype = dtype;
        this.handle = new AtomicReference<>(handle);
    }

    @Override
    public final Shape shape() {
        return shape;
    }

    @Override
    public final DType dtype() {
        return dtype;
    }

    @Override
    public final String backendName() {
        return backend;
    }

    @Override
    public final boolean isClosed() {
        return handle.get() == null;
    }

    /**
     * {@return the handle of an open tensor}
     *
     * @throws dev.attn4j.ports.ClosedException when the tensor is closed: the ports reject closed tensors
     *                                          before any kernel, so this means another thread closed it (or its
     *                                          backend) while a call was about to use it
     */
    protected final H handle() {
        H h = handle.get();
        if (h == null) {
            throw new dev.attn4j.ports.ClosedException(backend + " tensor " + shape + " " + dtype
                    + " was closed while a call was using it");
        }
        return h;
    }

    /**
     * Closes the tensor and returns its handle for freeing, or {@code null} if it was already closed.
     *
     * @return the handle to free, or null when the tensor was already closed
     */
    protected final H detach() {
        return handle.getAndSet(null);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + shape + " " + dtype + (isClosed() ? " (closed)" : "");
    }
}
