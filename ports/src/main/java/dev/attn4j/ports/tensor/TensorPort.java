package dev.attn4j.ports.tensor;

/**
 * Moves data between the host and a backend's tensors, and arranges tensors on the device. Every transfer is
 * explicit: no op copies behind the caller's back.
 *
 * <p>Float data is converted to the requested storage type on upload (round to nearest even for
 * {@code BF16}/{@code F16}) and widened back to {@code float} on download.
 *
 * <p>The device-side operations ({@link #view}, {@link #copy}, {@link #cast}, {@link #fill}) are optional:
 * a backend declares the ones it has in its {@link TensorCapabilities}, and the facade rejects the others
 * before reaching the engine, so an engine that lacks them need not override their defaults.
 *
 * <pre>{@code
 * TensorPort tensors = backend.tensors();
 * DeviceTensor k = tensors.upload(kHost, Shape.of(b, s, hkv, d), DType.F32);
 * float[] back = tensors.download(k);
 * DeviceTensor flat = tensors.view(k, 0, Shape.of(b * s, hkv * d));   // same storage, another shape
 * }</pre>
 */
public interface TensorPort {

    /**
     * {@return a new tensor of floating {@code dtype} holding {@code data} (length must equal the element count)}
     *
     * @param data the values, row-major
     * @param shape the tensor's shape
     * @param dtype storage dtype
     */
    DeviceTensor upload(float[] data, Shape shape, DType dtype);

    /**
     * {@return a new {@link DType#I32} tensor holding {@code data}}
     *
     * @param data the values, row-major
     * @param shape the tensor's shape
     */
    DeviceTensor uploadInts(int[] data, Shape shape);

    /**
     * {@return a new {@link DType#BOOL} tensor holding {@code data}}
     *
     * @param data the values, row-major
     * @param shape the tensor's shape
     */
    DeviceTensor uploadBools(boolean[] data, Shape shape);

    /**
     * {@return a new zero-filled tensor}
     *
     * @param shape the tensor's shape
     * @param dtype storage dtype
     */
    DeviceTensor zeros(Shape shape, DType dtype);

    /**
     * A new tensor whose contents are unspecified until written: for outputs an op will overwrite whole.
     * Engines that cannot skip the clearing inherit this default, which clears.
     *
     * @param shape the tensor's shape
     * @param dtype storage dtype
     * @return the new tensor, which the caller closes
     */
    default DeviceTensor allocate(Shape shape, DType dtype) {
        return zeros(shape, dtype);
    }

    /**
     * {@return the values of a floating tensor, widened to {@code float}}
     *
     * @param tensor the tensor, of a floating dtype
     */
    float[] download(DeviceTensor tensor);

    /**
     * {@return the values of an {@link DType#I32} tensor}
     *
     * @param tensor the tensor
     */
    int[] downloadInts(DeviceTensor tensor);

    /**
     * {@return the values of a {@link DType#BOOL} tensor}
     *
     * @param tensor the tensor
     */
    boolean[] downloadBools(DeviceTensor tensor);

    /**
     * A tensor of {@code shape} over {@code base}'s elements {@code [offset, offset + shape.elementCount())},
     * of {@code base}'s dtype, without a copy: writes through either are seen by the other. Closing the view
     * leaves the storage alone; closing {@code base} (or its backend) closes the view too. The facade checks the
     * range and the backend's {@link TensorCapabilities#viewAlignment()}.
     *
     * @param base   the tensor whose storage the view shares
     * @param offset the flat index, in {@code base}'s elements, of the view's first element
     * @param shape  the view's shape
     * @return the view
     */
    default DeviceTensor view(DeviceTensor base, long offset, Shape shape) {
        throw new IllegalStateException("view is not declared by this engine");
    }

    /**
     * Copies a block of rows from one tensor into another of the same dtype (see {@link CopyRequest}); the
     * source and destination must not overlap.
     *
     * @param request what to copy, from where to where
     */
    default void copy(CopyRequest request) {
        throw new IllegalStateException("copy is not declared by this engine");
    }

    /**
     * {@return a new tensor of floating {@code dtype} holding {@code source}'s values converted (round to nearest
     * even)}
     *
     * @param source a floating tensor, left unchanged
     * @param dtype  the new tensor's storage dtype
     */
    default DeviceTensor cast(DeviceTensor source, DType dtype) {
        throw new IllegalStateException("cast is not declared by this engine");
    }

    /**
     * Sets every element of a floating tensor to {@code value} (rounded to the tensor's dtype).
     *
     * @param tensor the floating tensor written
     * @param value  the value every element gets
     */
    default void fill(DeviceTensor tensor, float value) {
        throw new IllegalStateException("fill is not declared by this engine");
    }
}
