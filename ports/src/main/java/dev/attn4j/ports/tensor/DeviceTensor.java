package dev.attn4j.ports.tensor;

/**
 * A tensor owned by one backend: host heap arrays on the CPU backend, a {@code cl_mem} or a CUDA device
 * pointer elsewhere (docs/design.md §3). Row-major and contiguous. Data moves only through the explicit
 * {@link TensorPort#upload upload} and {@link TensorPort#download download} calls.
 *
 * <p>A tensor must be closed when no longer needed; closing the backend that made it frees it too. A
 * closed tensor, or a tensor of another backend, passed to an op is rejected before any kernel runs.
 *
 * <pre>{@code
 * try (DeviceTensor x = backend.tensors().upload(values, Shape.of(4, 512), DType.F32)) {
 *     ...
 * }
 * }</pre>
 */
public interface DeviceTensor extends AutoCloseable {

    /** {@return the shape} */
    Shape shape();

    /** {@return the element type} */
    DType dtype();

    /** {@return name of the backend that owns this tensor, for error messages} */
    String backendName();

    /** {@return whether {@link #close()} has been called (directly or by closing the backend)} */
    boolean isClosed();

    /** Frees the tensor's storage. Idempotent. */
    @Override
    void close();

    /** {@return storage size in bytes} */
    default long byteSize() {
        return shape().elementCount() * dtype().byteSize();
    }
}
