package dev.attn4j.guice;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.BackendProvider;
import dev.attn4j.ports.spi.DeviceKind;
import dev.attn4j.ports.tensor.DType;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/**
 * A test provider whose engines are Mockito mocks; it records every {@link #open} so a test can tell when
 * (and how often, and with which options) the module opened its backend.
 */
public class CountingProvider implements BackendProvider {
    private final String name;
    private final int priority;
    private final boolean available;
    private final DeviceKind kind;
    private final List<BackendOptions> opened = new ArrayList<>();

    /**
     * Used by ServiceLoader (see the test META-INF/services). It reports a GPU so that default selection
     * prefers it to the real cpu backend, which is also on the test class path.
     */
    public CountingProvider() {
        this("registered", 1, true, DeviceKind.GPU);
    }

    CountingProvider(String name, int priority, boolean available) {
        this(name, priority, available, DeviceKind.UNKNOWN);
    }

    private CountingProvider(String name, int priority, boolean available, DeviceKind kind) {
        this.name = name;
        this.priority = priority;
        this.available = available;
        this.kind = kind;
    }

    /** The options of every open so far. */
    List<BackendOptions> opened() {
        return opened;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int priority() {
        return priority;
    }

    @Override
    public Availability probe() {
        return available ? Availability.available(name + " ready", List.of(name + ": test device"), kind)
                : Availability.unavailable(name + " has no device here");
    }

    @Override
    public BackendEngine open(BackendOptions options) {
        opened.add(options);
        BackendEngine engine = mock(BackendEngine.class, name + "-engine");
        when(engine.name()).thenReturn(name);
        when(engine.capabilities()).thenReturn(Capabilities.of(TensorCapabilities.transfers(EnumSet.of(DType.F32))));
        when(engine.tensors()).thenReturn(mock(dev.attn4j.ports.tensor.TensorPort.class, name + "-tensors"));
        return engine;
    }
}
