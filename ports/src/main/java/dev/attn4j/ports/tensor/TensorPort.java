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

    /** A new tensor of floating {@code dtype} holding {@code data} (length must equal the element count). */
    DeviceTensor upload(float[] data, Shape shape, DType dtype);

    /** A new {@link DType#I32} tensor holding {@code data}. */
    DeviceTensor uploadInts(int[] data, Shape shape);

    /** A new {@link DType#BOOL} tensor holding {@code data}. */
    DeviceTensor uploadBools(boolean[] data, Shape shape);

    /** A new zero-filled tensor. */
    DeviceTensor zeros(Shape shape, DType dtype);

    /** The values of a floating tensor, widened to {@code float}. */
    float[] download(DeviceTensor tensor);

    /** The values of an {@link DType#I32} tensor. */
    int[] downloadInts(DeviceTensor tensor);

    /** The values of a {@link DType#BOOL} tensor. */
    boolean[] downloadBools(DeviceTensor tensor);
}
