package dev.attn4j.domain.training;

import dev.attn4j.domain.parameters.Parameter;
import dev.attn4j.domain.parameters.ParameterGroup;
import dev.attn4j.domain.parameters.ParameterStore;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.GradientClip;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code torch.optim.AdamW} over a {@link ParameterStore}, one fused optimizer-port call per trainable parameter
 * group (docs/design.md §9, §12), with global-norm clipping computed on the device.
 *
 * <p>Each trainable group gets its two moments {@code m} ("exp_avg") and {@code v} ("exp_avg_sq") as flat F32
 * buffers in exactly the group's layout (alignment padding included, where gradients stay 0, so it stays 0
 * too). A frozen group has neither. Each group has its own learning-rate multiplier and weight decay
 * ({@link GroupOptions}); by default a group decays with {@link AdamWOptions#weightDecay()} when all its
 * parameters' roles decay ({@code ParameterRole.decayedByDefault()}: weights, embeddings), not at all when none
 * does (norms, biases, scales, position biases), and a group that mixes both must be given its options.
 *
 * <p>Clipping ({@code clip_grad_norm_}) runs without a host round trip: the squared norms of every trainable
 * group's gradients are added into one {@code [1]} device accumulator ({@code sumOfSquares}), and every AdamW
 * call reads the factor {@code min(1, maxNorm / (√Σ + 1e-6))} from it. {@link #gradNormSquared()} exposes the
 * accumulator, so a trainer reads the norm only when it logs.
 *
 * <p>Master weights: the store's F32 values are what AdamW updates (the fp32 master weights). Models are F32
 * today, so the layers read these same buffers. 16-bit training adds, per group, a BF16/F16 working copy that
 * the layers read and write gradients for; the update stays here on the F32 master (gradients cast up to F32
 * first, or accumulated in F32 as now), and after {@link #step} one {@code TensorPort.cast} per group
 * refreshes the working copy from the master. Neither the moments nor this class's state change for that.
 *
 * <pre>{@code
 * try (AdamW opt = AdamW.create(model.parameters(), AdamWOptions.defaults().weightDecay(0.1))) {
 *     ... forward, lossAndBackward ...
 *     opt.step(schedule.at(opt.steps()));
 *     model.parameters().zeroGrads();
 * }
 * }</pre>
 */
public final class AdamW implements AutoCloseable {
    /** Suffix of a group's first moment in {@link #state()}. */
    public static final String EXP_AVG = ".exp_avg";
    /** Suffix of a group's second moment in {@link #state()}. */
    public static final String EXP_AVG_SQ = ".exp_avg_sq";

    private final ParameterStore store;
    private final AdamWOptions options;
    private final List<Slot> slots;
    private final DeviceTensor normSquared;
    private long steps;
    private boolean closed;

    /** One trainable group with its settings and moments. */
    private record Slot(ParameterGroup group, GroupOptions options, DeviceTensor expAvg, DeviceTensor expAvgSq) {
    }

    /**
     * One trainable group as the optimizer treats it.
     *
     * @param name        the group's name
     * @param elements    elements in its flat buffers
     * @param lrScale     multiplier of the scheduled learning rate
     * @param weightDecay its decoupled weight decay
     */
    public record GroupSettings(String name, long elements, double lrScale, double weightDecay) {
    }

    private AdamW(ParameterStore store, AdamWOptions options, List<Slot> slots, DeviceTensor normSquared) {
        this.store = store;
        this.options = options;
        this.slots = slots;
        this.normSquared = normSquared;
    }

    /**
     * AdamW with the default group settings (see the class comment).
     *
     * @param store   the parameters it updates
     * @param options its hyper-parameters
     * @return the optimizer, with zero moments
     */
    public static AdamW create(ParameterStore store, AdamWOptions options) {
        return create(store, options, Map.of());
    }

    /**
     * AdamW with some groups' settings given by name; the others get the defaults.
     *
     * @param store     the parameters it updates
     * @param options   its hyper-parameters
     * @param overrides settings of some trainable groups, by group name
     * @return the optimizer, with zero moments
     * @throws InvalidRequestException for an override naming no trainable group, a group mixing decayed and
     *                                 undecayed parameters without an override, or a store without trainable groups
     */
    public static AdamW create(ParameterStore store, AdamWOptions options, Map<String, GroupOptions> overrides) {
        InvalidRequestException.check(store != null, "store", "a parameter store", "null");
        InvalidRequestException.check(options != null, "options", "AdamW options", "null");
        InvalidRequestException.check(overrides != null, "overrides", "a map (may be empty)", "null");
        List<String> trainable = store.groups().stream().filter(ParameterGroup::trainable).map(ParameterGroup::name).toList();
        InvalidRequestException.check(!trainable.isEmpty(), "store", "at least one trainable parameter group",
                "only frozen groups");
        for (String name : overrides.keySet()) {
            InvalidRequestException.check(trainable.contains(name), "group options", "one of the trainable groups "
                    + trainable, name);
        }
        Backend b = store.backend();
        List<Slot> slots = new ArrayList<>();
        List<DeviceTensor> made = new ArrayList<>();
        try {
            for (ParameterGroup g : store.groups()) {
                if (!g.trainable()) {
                    continue;
                }
                GroupOptions o = overrides.containsKey(g.name()) ? overrides.get(g.name()) : defaults(g, options);
                Shape shape = g.values().shape();
                DeviceTensor m = b.tensors().zeros(shape, DType.F32);
                made.add(m);
                DeviceTensor v = b.tensors().zeros(shape, DType.F32);
                made.add(v);
                slots.add(new Slot(g, o, m, v));
            }
            DeviceTensor norm = b.tensors().zeros(Shape.of(1), DType.F32);
            made.add(norm);
            return new AdamW(store, options, List.copyOf(slots), norm);
        } catch (RuntimeException e) {
            made.forEach(DeviceTensor::close);
            throw e;
        }
    }

    private static GroupOptions defaults(ParameterGroup g, AdamWOptions options) {
        long decayed = g.parameters().stream().filter(p -> p.spec().role().decayedByDefault()).count();
        if (decayed == g.parameters().size()) {
            return new GroupOptions(1.0, options.weightDecay());
        }
        if (decayed == 0) {
            return new GroupOptions(1.0, 0.0);
        }
        // One fused call per group has one weight decay: a mixed group would decay norms or spare weights.
        List<String> names = g.parameters().stream().map(Parameter::name).limit(4).toList();
        throw new InvalidRequestException("group options", "options for group '" + g.name()
                + "', which mixes decayed and undecayed parameters (group by Grouping.decay(), or give its options)",
                names + (g.parameters().size() > 4 ? "..." : ""));
    }

    /** {@return the hyper-parameters} */
    public AdamWOptions options() {
        return options;
    }

    /** {@return the trainable groups, in store order, with their settings} */
    public List<GroupSettings> groups() {
        List<GroupSettings> out = new ArrayList<>();
        for (Slot s : slots) {
            out.add(new GroupSettings(s.group().name(), s.group().size(), s.options().lrScale(), s.options().weightDecay()));
        }
        return Collections.unmodifiableList(out);
    }

    /** {@return the updates taken so far (PyTorch's per-parameter {@code state['step']})} */
    public long steps() {
        return steps;
    }

    /**
     * One update of every trainable group with learning rate {@code lr} (times each group's multiplier), from the
     * gradients accumulated in the store: with clipping, the global squared norm is first summed on the device.
     * Gradients are left as they are (the caller zeroes them).
     *
     * @param lr the scheduled learning rate, finite and {@code >= 0}
     */
    public void step(double lr) {
        requireOpen();
        InvalidRequestException.check(Double.isFinite(lr) && lr >= 0, "lr", "a finite number >= 0", lr);
        Backend b = store.backend();
        long t = Math.addExact(steps, 1);
        GradientClip clip = null;
        if (options.clipping()) {
            b.tensors().fill(normSquared, 0f);
            for (Slot s : slots) {
                b.optimizer().sumOfSquares(new SumOfSquaresRequest(s.group().grads(), normSquared));
            }
            clip = new GradientClip((float) options.maxGradNorm(), normSquared);
        }
        for (Slot s : slots) {
            float groupLr = (float) (lr * s.options().lrScale());
            b.optimizer().adamW(new AdamWRequest(s.group().values(), s.group().grads(), s.expAvg(), s.expAvgSq(), t,
                    groupLr, (float) options.beta1(), (float) options.beta2(), (float) options.eps(),
                    (float) s.options().weightDecay(), clip));
        }
        steps = t;
    }

    /**
     * {@return the squared global gradient norm of the last {@link #step} (before clipping), an F32 {@code [1]}
     * device tensor owned by this optimizer, or {@code null} without clipping (nothing computes it then)}
     */
    public DeviceTensor gradNormSquared() {
        return options.clipping() ? normSquared : null;
    }

    /**
     * {@return the moments, downloaded: {@code <group>.exp_avg} and {@code <group>.exp_avg_sq} for every trainable
     * group, flat in the group's layout}
     */
    public Map<String, float[]> state() {
        requireOpen();
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Slot s : slots) {
            out.put(s.group().name() + EXP_AVG, store.backend().tensors().download(s.expAvg()));
            out.put(s.group().name() + EXP_AVG_SQ, store.backend().tensors().download(s.expAvgSq()));
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Restores the moments and the step count (as {@link #state()} and {@link #steps()} gave them).
     *
     * @param state the buffers by name
     * @param steps the updates they had taken
     *
     * @throws InvalidRequestException naming the first missing, unexpected or mis-sized buffer
     */
    public void load(Map<String, float[]> state, long steps) {
        requireOpen();
        InvalidRequestException.check(state != null, "state", "the optimizer's buffers", "null");
        InvalidRequestException.check(steps >= 0, "steps", ">= 0", steps);
        Map<String, Slot> expected = new LinkedHashMap<>();
        for (Slot s : slots) {
            expected.put(s.group().name() + EXP_AVG, s);
            expected.put(s.group().name() + EXP_AVG_SQ, s);
        }
        for (String name : state.keySet()) {
            InvalidRequestException.check(expected.containsKey(name), name, "one of the optimizer's buffers "
                    + expected.keySet(), "an unexpected buffer");
        }
        for (Map.Entry<String, Slot> e : expected.entrySet()) {
            float[] v = state.get(e.getKey());
            long size = e.getValue().group().size();
            InvalidRequestException.check(v != null, e.getKey(), "a buffer of " + size + " values", "none");
            InvalidRequestException.check(v.length == size, e.getKey(), size + " values (the group's layout)", v.length);
        }
        Backend b = store.backend();
        for (Map.Entry<String, Slot> e : expected.entrySet()) {
            Slot s = e.getValue();
            DeviceTensor target = e.getKey().endsWith(EXP_AVG_SQ) ? s.expAvgSq() : s.expAvg();
            try (DeviceTensor staged = b.tensors().upload(state.get(e.getKey()), target.shape(), DType.F32)) {
                b.tensors().copy(CopyRequest.into(staged, target, 0));
            }
        }
        this.steps = steps;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("optimizer is closed");
        }
    }

    /** Frees the moments and the norm accumulator. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Slot s : slots) {
            s.expAvg().close();
            s.expAvgSq().close();
        }
        normSquared.close();
    }
}
