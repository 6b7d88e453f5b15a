package dev.attn4j.ports;

import dev.attn4j.ports.spi.ProviderStatus;

import java.util.List;

/**
 * No backend could be selected: none usable, or the one named by {@code attn4j.backend} /
 * {@code ATTN4J_BACKEND} is missing or unavailable. The message lists every provider found on the class
 * path and why each was skipped.
 */
public final class BackendUnavailableException extends Attn4jException {
    private static final long serialVersionUID = 1L;
    private final transient List<ProviderStatus> found;

    /**
     * No backend, with the reason and every provider that was found.
     *
     * @param summary what went wrong
     * @param found   every provider found, with its probe result
     */
    public BackendUnavailableException(String summary, List<ProviderStatus> found) {
        super(format(summary, found));
        this.found = List.copyOf(found);
    }

    /** {@return every provider that was found, with the reason it was skipped} */
    public List<ProviderStatus> found() {
        return found;
    }

    private static String format(String summary, List<ProviderStatus> found) {
        StringBuilder sb = new StringBuilder(summary);
        if (found.isEmpty()) {
            sb.append("; no BackendProvider found on the class path (add attn4j-backend-cpu)");
        } else {
            sb.append("; providers found:");
            for (ProviderStatus s : found) {
                sb.append("\n  - ").append(s);
            }
        }
        return sb.toString();
    }
}
