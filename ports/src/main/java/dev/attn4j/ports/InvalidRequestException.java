package dev.attn4j.ports;

/**
 * A request was rejected before any kernel ran: wrong shape, dtype, range, a closed tensor, a tensor of
 * another backend. The message names the argument, what was expected and what was given, e.g.
 * {@code k: expected head dim 64 (as q), got 32}.
 *
 * <pre>{@code
 * try { attention.forward(request); }
 * catch (InvalidRequestException e) { log.warn("{} rejected: {}", e.argument(), e.getMessage()); }
 * }</pre>
 */
public final class InvalidRequestException extends Attn4jException {
    private static final long serialVersionUID = 1L;
    /** The rejected argument's name. */
    private final String argument;

    /**
     * A rejection: the message reads {@code <argument>: expected <expected>, got <actual>}.
     *
     * @param argument the offending argument's name, as in the request ({@code q}, {@code scale}, ...)
     * @param expected what a valid value looks like
     * @param actual   what was given
     */
    public InvalidRequestException(String argument, String expected, Object actual) {
        super(argument + ": expected " + expected + ", got " + actual);
        this.argument = argument;
    }

    private InvalidRequestException(String argument, String message, boolean full) {
        super(message);
        this.argument = argument;
    }

    /**
     * The same rejection with a hint appended to its message, e.g. which option would make the request valid.
     *
     * @param hint a short sentence, e.g. {@code the shapes fit BHSD: pass layout BHSD}
     * @return a new exception for the same argument
     */
    public InvalidRequestException withHint(String hint) {
        return new InvalidRequestException(argument, getMessage() + " (" + hint + ")", true);
    }

    /** {@return the name of the argument that was rejected} */
    public String argument() {
        return argument;
    }

    /**
     * Throws an {@code InvalidRequestException} unless {@code condition} holds.
     *
     * @param condition the condition that must hold
     * @param argument the offending argument's name, as in the request ({@code q}, {@code scale}, ...)
     * @param expected what a valid value looks like
     * @param actual what was given
     */
    public static void check(boolean condition, String argument, String expected, Object actual) {
        if (!condition) {
            throw new InvalidRequestException(argument, expected, actual);
        }
    }
}
