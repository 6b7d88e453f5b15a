/**
 * The {@code cuda} backend: every port of attn4j on a CUDA device — kernels written in CUDA C, compiled to PTX by
 * {@code nvcc} at build time and run through JCuda's driver API, and GEMMs through cuBLAS (JCublas). Found by
 * {@link java.util.ServiceLoader}; available where a CUDA driver and a device are present.
 *
 * <pre>{@code
 * try (Backend cuda = Backends.open("cuda")) { ... }   // or -Dattn4j.backend=cuda
 * }</pre>
 */
module dev.attn4j.backend.cuda {
    requires dev.attn4j.ports;
    requires jcuda;
    requires jcublas;

    provides dev.attn4j.ports.spi.BackendProvider with dev.attn4j.backend.cuda.CudaBackendProvider;
}
