package dev.attn4j.ports;

/**
 * A request needs something the backend did not declare in its {@link Capabilities}. Raised before any
 * kernel runs; the conformance suite reports such cases as <em>unsupported</em>, never as passed.
 */
public final class UnsupportedCapabilityException extends Attn4jException {
    private static final long serialVersionUID = 1L;
    /** The backend's name. */
    private final String backend;
    /** What is missing. */
    private final String capability;

    /**
     * A call outside the backend's declaration.
     *
     * @param backend    the backend's name
     * @param capability what is missing, e.g. {@code DROPOUT} or {@code dtype BF16}
     */
    public UnsupportedCapabilityException(String backend, String capability) {
        super("backend '" + backend + "' does not support " + capability);
        this.backend = backend;
        this.capability = capability;
    }

    /** {@return the backend's name} */
    public String backend() {
        return backend;
    }

    /** {@return the missing capability} */
    public String capability() {
        return capability;
    }
}
