/**
 * The OpenCL backend, on JOCL: FlashAttention-2 style attention and LayerNorm/RMSNorm kernels in OpenCL C,
 * tensors in {@code cl_mem} buffers. Found by {@link java.util.ServiceLoader} under the name {@code opencl};
 * choose the device with {@code -Dattn4j.opencl.device=<index or name substring>}.
 *
 * <pre>{@code
 * try (Backend backend = Backends.open("opencl")) { backend.devices().forEach(System.out::println); }
 * }</pre>
 */
module dev.attn4j.backend.opencl {
    requires dev.attn4j.ports;
    requires jocl;

    provides dev.attn4j.ports.spi.BackendProvider with dev.attn4j.backend.opencl.OpenClBackendProvider;
}
