package dev.attn4j.ports.spi;

import java.util.List;

/**
 * The outcome of {@link BackendProvider#probe()}: whether the backend can run here, why (or why not), and
 * the devices it found.
 *
 * <pre>{@code
 * return Availability.unavailable("no CUDA driver (libcuda.so.1 not found)");
 * return Availability.available("2 worker threads, Vector API 512-bit", List.of("cpu: AMD EPYC, 2 cores"));
 * }</pre>
 *
 * @param available whether {@code open} is expected to succeed
 * @param reason    a human sentence: what was found, or why the backend cannot run
 * @param devices   one line per device found (may be empty)
 */
public record Availability(boolean available, String reason, List<String> devices) {

    /** Copies {@code devices}; requires a reason. */
    public Availability {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("an availability needs a reason");
        }
        devices = List.copyOf(devices);
    }

    /** The backend can run. */
    public static Availability available(String reason, List<String> devices) {
        return new Availability(true, reason, devices);
    }

    /** The backend cannot run, and why. */
    public static Availability unavailable(String reason) {
        return new Availability(false, reason, List.of());
    }
}
