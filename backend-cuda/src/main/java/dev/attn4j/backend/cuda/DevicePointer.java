package dev.attn4j.backend.cuda;

/**
 * A device address as the engine passes it around: the allocation it lies in (whatever handle the {@link Gpu}
 * made: a JCuda {@code CUdeviceptr}, the emulator's address) and a byte offset into it. Views and
 * {@code CopyRequest} offsets are applied by {@link #plus}, so kernels and cuBLAS receive the address of the
 * first element they touch. {@link #NULL} is the null pointer of an absent optional argument.
 *
 * <pre>{@code
 * DevicePointer row = tensor.pointer().plus(r * cols * dtype.byteSize());
 * }</pre>
 *
 * @param allocation the allocation's handle, {@code null} for {@link #NULL}
 * @param byteOffset bytes from the allocation's start ({@code >= 0})
 */
record DevicePointer(Object allocation, long byteOffset) {

    /** The null pointer (an absent optional tensor). */
    static final DevicePointer NULL = new DevicePointer(null, 0);

    DevicePointer {
        if (byteOffset < 0) {
            throw new IllegalArgumentException("negative byte offset " + byteOffset);
        }
    }

    /** {@return this address moved forward by {@code bytes}} */
    DevicePointer plus(long bytes) {
        if (allocation == null) {
            throw new IllegalStateException("offsetting the null pointer");
        }
        return bytes == 0 ? this : new DevicePointer(allocation, Math.addExact(byteOffset, bytes));
    }

    /** Whether this is {@link #NULL}. */
    boolean isNull() {
        return allocation == null;
    }
}
