package dev.attn4j.ports.spi;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of {@link BackendProvider#probe()}: whether the backend can run here, why (or why not), the
 * devices it found, and the kind of device it would run on (which default selection ranks first).
 *
 * <pre>{@code
 * return Availability.unavailable("no CUDA driver (libcuda.so.1 not found)");
 * return Availability.available("2 worker threads, Vector API 512-bit", List.of("cpu: AMD EPYC, 2 cores"),
 *         DeviceKind.HOST);
 * }</pre>
 *
 * @param available  whether {@code open} is expected to succeed
 * @param reason     a human sentence: what was found, or why the backend cannot run
 * @param devices    one line per device found (may be empty)
 * @param deviceKind what the backend would run on when opened with its current options;
 *                   {@link DeviceKind#UNKNOWN} when it cannot tell or is unavailable
 */
public record Availability(boolean available, String reason, List<String> devices, DeviceKind deviceKind) {

    /** Copies {@code devices}; requires a reason and a kind. */
    public Availability {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("an availability needs a reason");
        }
        devices = List.copyOf(devices);
        Objects.requireNonNull(deviceKind, "deviceKind (DeviceKind.UNKNOWN when not known)");
    }

    /**
     * An availability whose device kind is not known.
     *
     * @param available whether {@code open} is expected to succeed
     * @param reason    what was found, or why the backend cannot run
     * @param devices   one line per device found
     */
    public Availability(boolean available, String reason, List<String> devices) {
        this(available, reason, devices, DeviceKind.UNKNOWN);
    }

    /**
     * The backend can run, on a device of the given kind.
     *
     * @param reason  what was found
     * @param devices one line per device found
     * @param kind    what the backend would run on
     * @return an available outcome
     */
    public static Availability available(String reason, List<String> devices, DeviceKind kind) {
        return new Availability(true, reason, devices, kind);
    }

    /**
     * The backend can run, on a device whose kind it does not report (ranked last by default selection).
     *
     * @param reason  what was found
     * @param devices one line per device found
     * @return an available outcome of {@link DeviceKind#UNKNOWN} kind
     */
    public static Availability available(String reason, List<String> devices) {
        return new Availability(true, reason, devices, DeviceKind.UNKNOWN);
    }

    /**
     * The backend cannot run, and why.
     *
     * @param reason why not, e.g. {@code "no CUDA driver (libcuda.so.1 not found)"}
     * @return an unavailable outcome
     */
    public static Availability unavailable(String reason) {
        return new Availability(false, reason, List.of(), DeviceKind.UNKNOWN);
    }
}
