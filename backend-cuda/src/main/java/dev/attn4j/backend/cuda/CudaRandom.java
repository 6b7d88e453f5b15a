package dev.attn4j.backend.cuda;

import dev.attn4j.ports.random.RandomPort;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * Launches {@code random.cu}: one thread per group of four elements (one Philox block), the mapping of ports'
 * {@code UniformRequest}. The range {@code high − low} is rounded to float here, as the cpu backend rounds it, so
 * {@code fma(u, range, low)} gives the same bits on both.
 */
final class CudaRandom implements RandomPort {
    /** Threads per block ({@code RANDOM_THREADS} in random.cu). */
    static final int THREADS = 256;

    private final CudaEngine engine;

    CudaRandom(CudaEngine engine) {
        this.engine = engine;
    }

    @Override
    public void uniform(UniformRequest r) {
        DeviceTensor t = r.tensor();
        long n = t.shape().elementCount();
        String kernel = KernelCatalog.uniform(t.dtype());
        engine.run(() -> {
            engine.launchItems(kernel, (n + 3) / 4, THREADS, arguments(((CudaTensor) t).pointer(), n, r));
            engine.synchronize(kernel);
        });
    }

    /** The kernel's arguments: the tensor, its count, low, range, then the seed's and offset's 32-bit halves. */
    static Object[] arguments(DevicePointer y, long count, UniformRequest r) {
        float range = r.high() - r.low();
        return new Object[] {y, count, r.low(), range, (int) r.seed(), (int) (r.seed() >>> 32), (int) r.offset(),
                (int) (r.offset() >>> 32)};
    }
}
