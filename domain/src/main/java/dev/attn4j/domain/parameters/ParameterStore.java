package dev.attn4j.domain.parameters;

import dev.attn4j.ports.Attn4jException;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.UnsupportedCapabilityException;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorFeature;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A model's parameters on one backend (docs/design.md §10): values in flat F32 buffers by group, gradients in
 * the same layout for trainable groups, and nothing at all (no gradient, no optimizer state) for frozen ones.
 * Each parameter is a view of its group's buffers, so layers see ordinary tensors while the optimizer sees one
 * range per group.
 *
 * <pre>{@code
 * ParameterStore store = ParameterStore.allocate(backend, specs, Grouping.decay(), spec -> true, 42L);
 * Parameter w = store.get("to_logits.weight");
 * store.zeroGrads();
 * }</pre>
 */
public final class ParameterStore implements AutoCloseable {
    /** Offsets of parameters within a group are rounded up to this many elements (256 bytes). */
    private static final int ALIGN = 64;

    private final Backend backend;
    private final Map<String, Parameter> byName;
    private final List<ParameterGroup> groups;
    private boolean closed;

    private ParameterStore(Backend backend, Map<String, Parameter> byName, List<ParameterGroup> groups) {
        this.backend = backend;
        this.byName = byName;
        this.groups = groups;
    }

    /**
     * Allocates and initialises the parameters.
     *
     * @param backend   where they live; must declare tensor views
     * @param specs     the model's parameters, in a stable order
     * @param grouping  the group name of each parameter (e.g. {@link Grouping#decay()})
     * @param trainable which parameters get gradients
     * @param seed      the initialisation seed; each parameter draws from a generator derived from it and its name
     * @return the store, owning the device buffers (close it to free them)
     */
    public static ParameterStore allocate(Backend backend, List<ParameterSpec> specs, Function<ParameterSpec, String> grouping,
                                          Predicate<ParameterSpec> trainable, long seed) {
        TensorCapabilities caps = backend.capabilities().port(TensorCapabilities.class).orElseThrow();
        if (!caps.supports(TensorFeature.VIEW) || !caps.supports(TensorFeature.COPY) || !caps.supports(TensorFeature.FILL)) {
            throw new UnsupportedCapabilityException(backend.name(), "tensor views, copies and fills (a parameter store)");
        }
        long align = lcm(ALIGN, caps.viewAlignment());
        // group name + trainability -> specs, in first-seen order
        Map<String, List<ParameterSpec>> members = new LinkedHashMap<>();
        Map<String, Boolean> trainableGroups = new LinkedHashMap<>();
        Map<String, ParameterSpec> seen = new LinkedHashMap<>();
        for (ParameterSpec s : specs) {
            if (seen.put(s.name(), s) != null) {
                throw new IllegalArgumentException("parameter '" + s.name() + "' declared twice");
            }
            boolean train = trainable.test(s);
            String g = grouping.apply(s) + (train ? "" : ".frozen");
            members.computeIfAbsent(g, k -> new ArrayList<>()).add(s);
            trainableGroups.put(g, train);
        }
        Map<String, Parameter> byName = new LinkedHashMap<>();
        List<ParameterGroup> groups = new ArrayList<>();
        List<DeviceTensor> made = new ArrayList<>();
        try {
            for (Map.Entry<String, List<ParameterSpec>> e : members.entrySet()) {
                long[] offsets = new long[e.getValue().size()];
                long total = 0;
                for (int i = 0; i < offsets.length; i++) {
                    offsets[i] = total;
                    total = Math.addExact(total, roundUp(e.getValue().get(i).size(), align));
                }
                InvalidRequestException.check(total <= Integer.MAX_VALUE, "parameters",
                        "groups of at most " + Integer.MAX_VALUE + " elements", "group '" + e.getKey() + "' of " + total);
                float[] host = new float[(int) total];
                for (int i = 0; i < offsets.length; i++) {
                    ParameterSpec s = e.getValue().get(i);
                    float[] v = new float[Math.toIntExact(s.size())];
                    s.init().fill(v, generator(seed, s.name()));
                    System.arraycopy(v, 0, host, (int) offsets[i], v.length);
                }
                DeviceTensor values = track(made, backend.tensors().upload(host, Shape.of((int) total), DType.F32));
                DeviceTensor grads = trainableGroups.get(e.getKey())
                        ? track(made, backend.tensors().zeros(Shape.of((int) total), DType.F32)) : null;
                ParameterGroup group = new ParameterGroup(e.getKey(), values, grads);
                for (int i = 0; i < offsets.length; i++) {
                    ParameterSpec s = e.getValue().get(i);
                    DeviceTensor v = track(made, backend.tensors().view(values, offsets[i], s.shape()));
                    DeviceTensor g = grads == null ? null : track(made, backend.tensors().view(grads, offsets[i], s.shape()));
                    Parameter p = new Parameter(s, group, offsets[i], v, g);
                    group.add(p);
                    byName.put(s.name(), p);
                }
                groups.add(group);
            }
        } catch (RuntimeException e) {
            for (DeviceTensor t : made) {
                t.close();
            }
            throw e;
        }
        return new ParameterStore(backend, byName, List.copyOf(groups));
    }

    private static DeviceTensor track(List<DeviceTensor> made, DeviceTensor t) {
        made.add(t);
        return t;
    }

    /** The generator of one parameter: the seed mixed with a hash of the name (SplittableRandom's mixing). */
    static SplittableRandom generator(long seed, String name) {
        long h = 1125899906842597L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = 31 * h + b;
        }
        return new SplittableRandom(seed ^ Long.rotateLeft(h, 17)).split();
    }

    private static long roundUp(long n, long align) {
        return (n + align - 1) / align * align;
    }

    private static long lcm(long a, long b) {
        long x = a;
        long y = b;
        while (y != 0) {
            long t = x % y;
            x = y;
            y = t;
        }
        return a / x * b;
    }

    /** {@return the backend the parameters live on} */
    public Backend backend() {
        return backend;
    }

    /** {@return every parameter, in declaration order} */
    public List<Parameter> parameters() {
        return List.copyOf(byName.values());
    }

    /** {@return the names, in declaration order} */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /**
     * Whether a parameter of that name exists.
     *
     * @param name a state-dict name, e.g. {@code token_emb.emb.weight}
     * @return whether the store holds it
     */
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /**
     * The named parameter.
     *
     * @param name a state-dict name
     * @return the parameter
     * @throws InvalidRequestException naming the parameter when there is none
     */
    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) {
            throw new InvalidRequestException("parameter", "one of the model's " + byName.size() + " parameters", name);
        }
        return p;
    }

    /** {@return the groups, in first-declared order} */
    public List<ParameterGroup> groups() {
        return groups;
    }

    /** {@return number of trainable elements (without alignment padding)} */
    public long trainableCount() {
        return byName.values().stream().filter(Parameter::trainable).mapToLong(p -> p.spec().size()).sum();
    }

    /** {@return number of elements of all parameters (without alignment padding)} */
    public long count() {
        return byName.values().stream().mapToLong(p -> p.spec().size()).sum();
    }

    /** Sets every gradient to zero (one fill per trainable group). */
    public void zeroGrads() {
        requireOpen();
        for (ParameterGroup g : groups) {
            if (g.trainable()) {
                backend.tensors().fill(g.grads(), 0f);
            }
        }
    }

    /**
     * Overwrites one parameter's value from the host (shape-checked).
     *
     * @param name a state-dict name
     * @param values the new value, row-major, as many as the parameter's shape holds
     */
    public void set(String name, float[] values) {
        requireOpen();
        Parameter p = get(name);
        InvalidRequestException.check(values != null && values.length == p.spec().size(), name,
                p.spec().size() + " values (shape " + p.shape() + ")", values == null ? "null" : values.length + " values");
        try (DeviceTensor staged = backend.tensors().upload(values, p.shape(), DType.F32)) {
            backend.tensors().copy(CopyRequest.into(staged, p.value(), 0));
        }
    }

    /**
     * One parameter's value, downloaded.
     *
     * @param name a state-dict name
     * @return its values, row-major
     */
    public float[] value(String name) {
        requireOpen();
        return backend.tensors().download(get(name).value());
    }

    /**
     * One parameter's gradient, downloaded ({@code null} for a frozen one).
     *
     * @param name a state-dict name
     * @return its gradient, row-major, or {@code null}
     */
    public float[] grad(String name) {
        requireOpen();
        Parameter p = get(name);
        return p.grad() == null ? null : backend.tensors().download(p.grad());
    }

    /** {@return every value by name, downloaded group by group} */
    public Map<String, float[]> values() {
        return downloadAll(false);
    }

    /** {@return every gradient by name (trainable parameters only), downloaded group by group} */
    public Map<String, float[]> grads() {
        return downloadAll(true);
    }

    private Map<String, float[]> downloadAll(boolean grads) {
        requireOpen();
        Map<String, float[]> out = new LinkedHashMap<>();
        for (ParameterGroup g : groups) {
            if (grads && !g.trainable()) {
                continue;
            }
            float[] flat = backend.tensors().download(grads ? g.grads() : g.values());
            for (Parameter p : g.parameters()) {
                int from = (int) p.offset();
                out.put(p.name(), java.util.Arrays.copyOfRange(flat, from, from + (int) p.spec().size()));
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Overwrites every parameter from {@code values} (e.g. a safetensors file): each group is assembled on the host
     * and uploaded once.
     *
     * @param values       by name
     * @param allowMissing names of this store that may be absent (they keep their current values)
     * @throws InvalidRequestException naming the first missing, unexpected or mis-shaped tensor
     */
    public void load(Map<String, float[]> values, Predicate<String> allowMissing) {
        requireOpen();
        for (String name : values.keySet()) {
            InvalidRequestException.check(byName.containsKey(name), name, "no such tensor (not a parameter of this model)",
                    "a tensor in the weights");
        }
        for (ParameterGroup g : groups) {
            float[] flat = null;
            for (Parameter p : g.parameters()) {
                float[] v = values.get(p.name());
                if (v == null) {
                    InvalidRequestException.check(allowMissing.test(p.name()), p.name(), "a tensor of shape " + p.shape(),
                            "none in the weights");
                    continue;
                }
                InvalidRequestException.check(v.length == p.spec().size(), p.name(),
                        p.spec().size() + " values (shape " + p.shape() + ")", v.length + " values");
                if (flat == null) {
                    flat = backend.tensors().download(g.values());
                }
                System.arraycopy(v, 0, flat, (int) p.offset(), v.length);
            }
            if (flat != null) {
                try (DeviceTensor staged = backend.tensors().upload(flat, g.values().shape(), DType.F32)) {
                    backend.tensors().copy(CopyRequest.into(staged, g.values(), 0));
                }
            }
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new Attn4jException("parameter store is closed");
        }
    }

    /** Frees every buffer. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Parameter p : byName.values()) {
            p.value().close();
            if (p.grad() != null) {
                p.grad().close();
            }
        }
        for (ParameterGroup g : groups) {
            g.values().close();
            if (g.grads() != null) {
                g.grads().close();
            }
        }
    }
}
