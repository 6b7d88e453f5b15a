package dev.attn4j.ports;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a backend declares: one {@link PortCapabilities} per port it provides, looked up by the record's
 * type. A port with no entry is not provided, and calling it is an {@link UnsupportedCapabilityException}
 * naming the port, before any kernel runs. Adding a port to attn4j adds a record type, not a field here.
 *
 * <pre>{@code
 * Capabilities caps = Capabilities.of(
 *         new AttentionCapabilities(EnumSet.of(DType.F32), EnumSet.allOf(AttentionFeature.class), 1, 256),
 *         NormCapabilities.all(EnumSet.of(DType.F32)));
 * boolean causal = caps.port(AttentionCapabilities.class).map(a -> a.supports(AttentionFeature.CAUSAL)).orElse(false);
 * }</pre>
 */
public final class Capabilities {
    private final Map<Class<? extends PortCapabilities>, PortCapabilities> ports;

    private Capabilities(Map<Class<? extends PortCapabilities>, PortCapabilities> ports) {
        this.ports = ports;
    }

    /**
     * The declaration of the given ports.
     *
     * @param ports one declaration per port the backend provides, at most one of each record type
     * @return a declaration listing the ports in the given order
     * @throws IllegalArgumentException if a port is declared twice
     */
    public static Capabilities of(PortCapabilities... ports) {
        Map<Class<? extends PortCapabilities>, PortCapabilities> map = new LinkedHashMap<>();
        for (PortCapabilities p : ports) {
            if (p == null) {
                throw new IllegalArgumentException("a port capability is null");
            }
            if (map.put(p.getClass(), p) != null) {
                throw new IllegalArgumentException("port '" + p.port() + "' is declared twice");
            }
        }
        return new Capabilities(map);
    }

    /** {@return a declaration with no port at all (a backend that provides only tensors)} */
    public static Capabilities none() {
        return new Capabilities(Map.of());
    }

    /**
     * {@return this declaration with {@code port} added (replacing an earlier declaration of the same port)}
     * This declaration is not changed.
     *
     * @param port the declaration of one port
     */
    public Capabilities with(PortCapabilities port) {
        Map<Class<? extends PortCapabilities>, PortCapabilities> map = new LinkedHashMap<>(ports);
        map.put(port.getClass(), port);
        return new Capabilities(map);
    }

    /**
     * {@return the declaration of one port, if the backend provides it}
     *
     * @param <C>  the port's declaration record
     * @param type the class of that record, e.g. {@code AttentionCapabilities.class}
     */
    public <C extends PortCapabilities> Optional<C> port(Class<C> type) {
        return Optional.ofNullable(type.cast(ports.get(type)));
    }

    /**
     * {@return whether the backend provides the port whose declaration has this type}
     *
     * @param type the class of the port's declaration record
     */
    public boolean provides(Class<? extends PortCapabilities> type) {
        return ports.containsKey(type);
    }

    /**
     * The declaration of a port the caller is about to use.
     *
     * @param <C>      the port's declaration record
     * @param backend  the backend's name, for the message
     * @param type     the class of that record, e.g. {@code AttentionCapabilities.class}
     * @param portName the port's name, for the message when it is missing
     * @return the port's declaration
     * @throws UnsupportedCapabilityException when the backend does not provide the port
     */
    public <C extends PortCapabilities> C require(String backend, Class<C> type, String portName) {
        return port(type).orElseThrow(() -> new UnsupportedCapabilityException(backend, "the " + portName + " port"));
    }

    /** {@return every declared port, in declaration order} */
    public Collection<PortCapabilities> ports() {
        return List.copyOf(ports.values());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Capabilities c && c.ports.equals(ports);
    }

    @Override
    public int hashCode() {
        return ports.hashCode();
    }

    @Override
    public String toString() {
        return "Capabilities" + ports.values();
    }
}
