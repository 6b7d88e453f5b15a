package dev.attn4j.ports;

/**
 * Base of every error attn4j raises on purpose. Unchecked: the errors describe programming mistakes or
 * missing hardware, which a caller rarely recovers from locally.
 */
public class Attn4jException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * An error with a message.
     *
     * @param message the message
     */
    public Attn4jException(String message) {
        super(message);
    }

    /**
     * An error with a message and its cause.
     *
     * @param message the message
     * @param cause the underlying error
     */
    public Attn4jException(String message, Throwable cause) {
        super(message, cause);
    }
}
