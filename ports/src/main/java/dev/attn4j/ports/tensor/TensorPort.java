package dev.attn4j.ports.tensor;

/**
 * Moves data between the host and a backend's tensors. Every transfer is explicit: no op copies behind
 * the caller's back.
 *
 * <p>Float data is converted to the requested storage type on upload (round to nearest even for
 * {@code BF16}/{@code F16}) and widened back to {@code float} on download.
 *
 * <pre>{@code
 * TensorPort tensors = backend.tensors();
 * DeviceTensor k = tensors.upload(kHost, Shape.of(b, s, hkv, d), DType.F32);
 * float[] back = tensors.download(k);
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
     * {@return the values of a floating tensor, widened to {@code float}}
     *
     * @param tensor the tensor
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
}
