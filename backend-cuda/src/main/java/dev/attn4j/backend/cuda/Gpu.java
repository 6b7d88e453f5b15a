package dev.attn4j.backend.cuda;

/**
 * What the engine needs of a CUDA device: memory, kernel launches from the PTX modules of {@link KernelCatalog},
 * cuBLAS GEMMs and synchronisation. {@link CudaGpu} implements it with JCuda's driver API and JCublas; the tests
 * implement it with the host emulation of the same kernels (so the engine's own launch sequence, grid sizes and
 * arguments run there too) and with a recorder that only records.
 *
 * <p>Calls are made with the engine's lock held, after {@link #makeCurrent()}; kernels and GEMMs run in order on
 * one stream, and {@link #synchronize} waits for them.
 */
interface Gpu extends AutoCloseable {

    /** {@return the device, one line (name, compute capability, memory)} */
    String describe();

    /** Makes this device's context current on the calling thread. */
    void makeCurrent();

    /** {@return a new allocation of {@code bytes} (> 0), contents unspecified} */
    DevicePointer allocate(long bytes);

    /** Frees an allocation made by {@link #allocate}. */
    void free(DevicePointer allocation);

    /** Sets {@code count} elements of {@code elementBytes} (1, 2 or 4) from {@code at} to {@code value}'s low bits. */
    void memset(DevicePointer at, int elementBytes, int value, long count);

    /** Copies {@code bytes} from a host array ({@code float[]}, {@code short[]}, {@code int[]} or {@code byte[]}). */
    void copyIn(DevicePointer to, Object hostArray, long bytes);

    /** Copies {@code bytes} into a host array ({@code float[]}, {@code short[]}, {@code int[]} or {@code byte[]}). */
    void copyOut(Object hostArray, DevicePointer from, long bytes);

    /**
     * Launches {@code kernel} on a grid of 1-D blocks of {@code threads}, with {@code sharedBytes} of dynamic shared
     * memory. Arguments are {@link DevicePointer}s, {@link Integer}s, {@link Long}s and {@link Float}s, in the
     * kernel's parameter order.
     */
    void launch(String kernel, int sharedBytes, int gridX, int gridY, int gridZ, int threads, Object... args);

    /** {@return why cuBLAS cannot run here, or {@code null} when {@link #gemm} works} */
    String blasProblem();

    /** Runs one (strided-batched) column-major GEMM, cuBLAS's {@code cublasGemmStridedBatchedEx}. */
    void gemm(GemmCall call);

    /** Waits for everything launched; a kernel's failure surfaces here, named by {@code what}. */
    void synchronize(String what);

    /** {@return the most dynamic shared memory a block may opt in to} */
    int sharedMemoryOptIn();

    /** Lets {@code kernel} use up to {@code bytes} of dynamic shared memory. */
    void setMaxDynamicSharedMemory(String kernel, int bytes);

    /** Frees every device resource (modules, the cuBLAS handle, the context). Idempotent. */
    @Override
    void close();
}
