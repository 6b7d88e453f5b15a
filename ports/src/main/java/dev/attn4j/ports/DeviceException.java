package dev.attn4j.ports;

/**
 * A device or driver call failed at run time (out of memory, a kernel launch error, a lost device). The
 * message carries the vendor's error name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY} or
 * {@code CL_OUT_OF_RESOURCES}.
 */
public final class DeviceException extends Attn4jException {
    private static final long serialVersionUID = 1L;
    /** The vendor's name for the error. */
    private final String errorName;

    /**
     * A device failure.
     *
     * @param backend   the backend's name
     * @param errorName the vendor's name for the error
     * @param detail    what was being done
     */
    public DeviceException(String backend, String errorName, String detail) {
        super(backend + ": " + errorName + " (" + detail + ")");
        this.errorName = errorName;
    }

    /** {@return the vendor's error name} */
    public String errorName() {
        return errorName;
    }
}
