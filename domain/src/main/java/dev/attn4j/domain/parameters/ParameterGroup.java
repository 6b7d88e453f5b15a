package dev.attn4j.domain.parameters;

import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Parameters stored together in one flat F32 buffer (and one flat gradient buffer when trainable), so that the
 * optimizer updates a whole group with one fused call and gradients are cleared with one fill.
 *
 * <pre>{@code
 * for (ParameterGroup g : store.groups()) {
 *     if (g.trainable()) backend.optimizer().adamW(new AdamWRequest(g.values(), g.grads(), m, v, ...));
 * }
 * }</pre>
 */
public final class ParameterGroup {
    private final String name;
    private final DeviceTensor values;
    private final DeviceTensor grads;
    private final List<Parameter> parameters = new ArrayList<>();

    ParameterGroup(String name, DeviceTensor values, DeviceTensor grads) {
        this.name = name;
        this.values = values;
        this.grads = grads;
    }

    void add(Parameter p) {
        parameters.add(p);
    }

    /** {@return the group's name} (e.g. {@code decay}, {@code no_decay}, {@code lora_B}) */
    public String name() {
        return name;
    }

    /** {@return all values, flat} */
    public DeviceTensor values() {
        return values;
    }

    /** {@return all gradients, flat, or {@code null} for a frozen group} */
    public DeviceTensor grads() {
        return grads;
    }

    /** {@return whether the group is trained} */
    public boolean trainable() {
        return grads != null;
    }

    /** {@return elements in the flat buffers (including alignment padding between parameters)} */
    public long size() {
        return values.shape().elementCount();
    }

    /** {@return the parameters, in declaration order} */
    public List<Parameter> parameters() {
        return Collections.unmodifiableList(parameters);
    }

    @Override
    public String toString() {
        return "ParameterGroup[" + name + ", " + parameters.size() + " parameters, " + size() + " elements"
                + (trainable() ? "" : ", frozen") + "]";
    }
}
