package dev.attn4j.ports;

/**
 * A backend or a tensor was closed while a call needed it: the backend closed by another thread while the
 * call was running or waiting for its workers, or a tensor closed between the call's validation and its
 * kernel. The call did not complete and returned nothing; whatever outputs it had made are freed. Calls made
 * after the close are rejected up front (an {@link InvalidRequestException} for a closed tensor, an
 * {@link Attn4jException} for a closed backend).
 *
 * <pre>{@code
 * try { backend.attention().forward(request); }
 * catch (ClosedException e) { log.info("shutting down: {}", e.getMessage()); }
 * }</pre>
 */
public final class ClosedException extends Attn4jException {
    private static final long serialVersionUID = 1L;

    /**
     * An error saying what was closed.
     *
     * @param message what was closed and what the call was doing, e.g. {@code the cpu backend was closed while a
     *                call was running}
     */
    public ClosedException(String message) {
        super(message);
    }

    /**
     * An error saying what was closed, with what revealed it.
     *
     * @param message what was closed
     * @param cause   the interruption or failure that revealed it
     */
    public ClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
