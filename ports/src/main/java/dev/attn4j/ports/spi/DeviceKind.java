package dev.attn4j.ports.spi;

/**
 * What a backend's kernels will run on, as its {@link BackendProvider#probe() probe} reports it. Default
 * selection ranks by it before priority (docs/design.md §2): an accelerator first, then the host CPU run
 * natively (the {@code cpu} backend), then the host CPU reached through a device API (an OpenCL CPU device
 * such as POCL, TornadoVM on one), which does the same work slower than native code, and last a device of
 * unknown kind, which cannot be shown to beat the native backend.
 *
 * <pre>{@code
 * return Availability.available("CUDA driver 12.8, 1 device(s)", devices, DeviceKind.GPU);
 * }</pre>
 */
public enum DeviceKind {
    /** A GPU. */
    GPU("a GPU", 0),
    /** Another accelerator (an FPGA, an OpenCL accelerator device). */
    ACCELERATOR("an accelerator", 0),
    /** The host CPU, run natively by the JVM. */
    HOST("the host CPU (native)", 1),
    /** The host CPU reached through a device API, e.g. OpenCL on POCL. */
    HOST_DEVICE("the host CPU through a device API", 2),
    /** Not known: the provider could not tell (or did not say). */
    UNKNOWN("a device of unknown kind", 3);

    private final String description;
    private final int rank;

    DeviceKind(String description, int rank) {
        this.description = description;
        this.rank = rank;
    }

    /**
     * Selection rank: lower is preferred; equal ranks are ordered by priority.
     *
     * @return 0 for accelerators, 1 for the native host, 2 for the host through a device API, 3 when unknown
     */
    public int rank() {
        return rank;
    }

    /**
     * A few words for listings, e.g. {@code "the host CPU through a device API"}.
     *
     * @return the description
     */
    public String description() {
        return description;
    }
}
