package dev.attn4j.ports;

/**
 * Checks of scalar arguments in the precision the kernels use: a {@code double} that is finite may still
 * overflow to infinity, or underflow to zero, as a {@code float}.
 *
 * <pre>{@code
 * float scale = Scalars.requireFinite("scale", options.scale());
 * }</pre>
 */
public final class Scalars {
    private Scalars() {
    }

    /**
     * {@return {@code value} as a float, which must be finite}
     *
     * @param argument the argument's name, which an error message quotes
     * @param value    the value a caller passed
     * @throws InvalidRequestException naming {@code argument} otherwise
     */
    public static float requireFinite(String argument, double value) {
        float f = (float) value;
        InvalidRequestException.check(Float.isFinite(f), argument, "a number finite as a float", value);
        return f;
    }

    /**
     * {@return {@code value} as a float, which must be finite and {@code > 0} (not underflowing to 0)}
     *
     * @param argument the argument's name, which an error message quotes
     * @param value    the value a caller passed
     * @throws InvalidRequestException naming {@code argument} otherwise
     */
    public static float requirePositive(String argument, double value) {
        float f = (float) value;
        InvalidRequestException.check(Float.isFinite(f) && f > 0f, argument,
                "a number > 0 and finite as a float", value);
        return f;
    }

    /**
     * {@return {@code value} as a float, which must be finite and {@code >= 0}}
     *
     * @param argument the argument's name, which an error message quotes
     * @param value    the value a caller passed
     * @throws InvalidRequestException naming {@code argument} otherwise
     */
    public static float requireNonNegative(String argument, double value) {
        float f = (float) value;
        InvalidRequestException.check(Float.isFinite(f) && f >= 0f, argument,
                "a number >= 0 and finite as a float", value);
        return f;
    }
}
