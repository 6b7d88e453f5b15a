package dev.attn4j.ports;

import dev.attn4j.ports.tensor.DType;

import java.util.List;
import java.util.Set;

/**
 * What one port of a backend declares: its storage types and its optional features. Each port package has
 * its own record implementing this ({@code AttentionCapabilities}, {@code LinearCapabilities}, ...), and a
 * backend's {@link Capabilities} holds one per port it provides; a port without one is unsupported.
 *
 * <pre>{@code
 * for (PortCapabilities port : backend.capabilities().ports()) {
 *     System.out.println(port.port() + " " + port.dtypes() + " " + port.featureNames());
 * }
 * }</pre>
 */
public interface PortCapabilities {

    /** {@return the port's name as reports and errors print it, e.g. {@code attention}, {@code linear}} */
    String port();

    /** {@return floating storage types the port computes in (fp32 arithmetic for 16-bit storage)} */
    Set<DType> dtypes();

    /** {@return the declared optional features, by name, for reports (empty for a port without options)} */
    List<String> featureNames();

    /**
     * {@return whether the port computes in {@code dtype}}
     *
     * @param dtype a storage type
     */
    default boolean supports(DType dtype) {
        return dtypes().contains(dtype);
    }

    /**
     * Throws {@link UnsupportedCapabilityException} unless the port computes in {@code dtype}.
     *
     * @param backend the backend's name, for the message
     * @param dtype   the storage type of the request about to run
     * @throws UnsupportedCapabilityException when the port does not declare {@code dtype}
     */
    default void require(String backend, DType dtype) {
        if (!supports(dtype)) {
            throw new UnsupportedCapabilityException(backend, "dtype " + dtype + " (" + port() + ")");
        }
    }
}
