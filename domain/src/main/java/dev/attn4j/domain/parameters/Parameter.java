package dev.attn4j.domain.parameters;

import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * One parameter of a {@link ParameterStore}: a view of its group's flat value buffer and, when the group is
 * trainable, of its flat gradient buffer. Layers read {@link #value()} and accumulate into {@link #grad()}.
 *
 * <pre>{@code
 * Parameter w = store.get("to_logits.weight");
 * backend.linear().backward(new LinearBackwardRequest(fwd, dy, true, w.grad(), null));
 * }</pre>
 */
public final class Parameter {
    private final ParameterSpec spec;
    private final ParameterGroup group;
    private final long offset;
    private final DeviceTensor value;
    private final DeviceTensor grad;

    Parameter(ParameterSpec spec, ParameterGroup group, long offset, DeviceTensor value, DeviceTensor grad) {
        this.spec = spec;
        this.group = group;
        this.offset = offset;
        this.value = value;
        this.grad = grad;
    }

    /** {@return the state-dict name} */
    public String name() {
        return spec.name();
    }

    /** {@return the declaration} */
    public ParameterSpec spec() {
        return spec;
    }

    /** {@return the shape} */
    public Shape shape() {
        return spec.shape();
    }

    /** {@return the group holding it} */
    public ParameterGroup group() {
        return group;
    }

    /** {@return element offset of this parameter in its group's flat buffers} */
    public long offset() {
        return offset;
    }

    /** {@return the value, a view of the group's buffer} */
    public DeviceTensor value() {
        return value;
    }

    /** {@return the gradient accumulator, or {@code null} for a frozen parameter} */
    public DeviceTensor grad() {
        return grad;
    }

    /** {@return whether it is trained (has a gradient)} */
    public boolean trainable() {
        return grad != null;
    }

    @Override
    public String toString() {
        return name() + shape() + (trainable() ? "" : " (frozen)");
    }
}
