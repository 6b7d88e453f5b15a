package dev.attn4j.ports.tensor;

/**
 * Element types a {@link DeviceTensor} can hold (docs/design.md §3).
 *
 * <p>{@code F32} is supported by every backend; {@code BF16} and {@code F16} are storage types on the
 * backends that declare them (arithmetic accumulates in fp32). {@code I32} carries integer inputs such as
 * FlashMask's {@code startend_row_indices}; {@code BOOL} carries dense boolean masks.
 *
 * <pre>{@code
 * DeviceTensor q = backend.tensors().upload(data, Shape.of(1, 128, 8, 64), DType.F32);
 * }</pre>
 */
public enum DType {
    /** IEEE-754 binary32. */
    F32(4, true),
    /** IEEE-754 binary16. */
    F16(2, true),
    /** bfloat16: the upper half of a binary32, rounded to nearest even. */
    BF16(2, true),
    /** Two's complement 32-bit integer. */
    I32(4, false),
    /** One byte per element, 0 or 1. */
    BOOL(1, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /** {@return bytes one element takes in storage} */
    public int byteSize() {
        return byteSize;
    }

    /** {@return whether the type holds real numbers (F32, F16, BF16)} */
    public boolean isFloating() {
        return floating;
    }
}
