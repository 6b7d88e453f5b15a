package dev.attn4j.ports.spi;

/**
 * One provider found on the class path, with the outcome of its probe.
 *
 * <pre>{@code
 * for (ProviderStatus s : BackendSelector.fromServiceLoader().survey()) System.out.println(s);
 * }</pre>
 *
 * @param name         the provider's name (or the class name when it could not be instantiated)
 * @param priority     its priority ({@code Integer.MIN_VALUE} when unknown)
 * @param availability its probe's answer
 * @param provider     the provider, or {@code null} when it could not be instantiated
 */
public record ProviderStatus(String name, int priority, Availability availability, BackendProvider provider) {

    /**
     * {@code name (priority): available|unavailable - reason}.
     *
     * @return one line
     */
    @Override
    public String toString() {
        return name + " (priority " + priority + "): "
                + (availability.available() ? "available" : "unavailable")
                + " - " + availability.reason();
    }
}
