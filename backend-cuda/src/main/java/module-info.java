/**
 * The {@code cuda} backend: attention and normalisation kernels written in CUDA C, compiled to PTX by
 * {@code nvcc} at build time and run through JCuda's driver API. Found by {@link java.util.ServiceLoader};
 * available where a CUDA driver and a device are present.
 *
 * <pre>{@code
 * try (Backend cuda = Backends.open("cuda")) { ... }   // or -Dattn4j.backend=cuda
 * }</pre>
 */
module dev.attn4j.backend.cuda {
    requires dev.attn4j.ports;
    requires jcuda;

    provides dev.attn4j.ports.spi.BackendProvider with dev.attn4j.backend.cuda.CudaBackendProvider;
}
