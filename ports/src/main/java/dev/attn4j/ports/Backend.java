package dev.attn4j.ports;

import dev.attn4j.ports.activation.ActivationCapabilities;
import dev.attn4j.ports.activation.ActivationPort;
import dev.attn4j.ports.activation.ValidatingActivationPort;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.ValidatingAttentionPort;
import dev.attn4j.ports.elementwise.ElementwiseCapabilities;
import dev.attn4j.ports.elementwise.ElementwisePort;
import dev.attn4j.ports.elementwise.ValidatingElementwisePort;
import dev.attn4j.ports.embedding.EmbeddingCapabilities;
import dev.attn4j.ports.embedding.EmbeddingPort;
import dev.attn4j.ports.embedding.ValidatingEmbeddingPort;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.linear.LinearPort;
import dev.attn4j.ports.linear.ValidatingLinearPort;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.loss.ValidatingLossPort;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.norm.ValidatingNormalizationPort;
import dev.attn4j.ports.optim.OptimizerCapabilities;
import dev.attn4j.ports.optim.OptimizerPort;
import dev.attn4j.ports.optim.ValidatingOptimizerPort;
import dev.attn4j.ports.random.RandomCapabilities;
import dev.attn4j.ports.random.RandomPort;
import dev.attn4j.ports.random.ValidatingRandomPort;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.ValidatingRotaryPort;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorPort;
import dev.attn4j.ports.tensor.ValidatingTensorPort;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.WeakHashMap;
import java.util.function.Supplier;

/**
 * An open backend: the ports the domain calls, each validating every request before the engine's kernels
 * see it (docs/design.md §6). Each port package holds its own checks (its {@code Validating*Port}); this class
 * gives them what they share — the backend's name and declaration, tensor ownership and liveness, and what is
 * known of integer tensors' values — and hands out the checked ports.
 *
 * <pre>{@code
 * try (Backend backend = Backends.open()) {
 *     DeviceTensor x = backend.tensors().upload(xHost, Shape.of(4, 512), DType.F32);
 *     DeviceTensor y = backend.linear().forward(LinearRequest.of(x, w, null));
 *     ...
 * }   // frees every tensor the backend still owns
 * }</pre>
 */
public final class Backend implements AutoCloseable {
    private final BackendEngine engine;
    private final Guard guard = new Guard();
    private final TensorPort tensors;
    private final AttentionPort attention;
    private final NormalizationPort normalization;
    private final RotaryPort rotary;
    private final LinearPort linear;
    private final ActivationPort activation;
    private final ElementwisePort elementwise;
    private final EmbeddingPort embedding;
    private final LossPort loss;
    private final OptimizerPort optimizer;
    private final RandomPort random;
    private volatile boolean closed;
    /**
     * What is known of I32 tensors' values, by identity: recorded at upload, so index checks (FlashMask rows,
     * token ids, targets) need no device-to-host copy; read from the device once for a tensor without a record.
     */
    private final Map<DeviceTensor, PortGuard.IntRange> intRanges = Collections.synchronizedMap(new WeakHashMap<>());

    private Backend(BackendEngine engine) {
        this.engine = engine;
        Capabilities caps = engine.capabilities();
        this.tensors = new ValidatingTensorPort(guard, engine.tensors());
        this.attention = new ValidatingAttentionPort(guard, provided(caps, AttentionCapabilities.class, engine::attention));
        this.normalization = new ValidatingNormalizationPort(guard,
                provided(caps, NormCapabilities.class, engine::normalization));
        this.rotary = new ValidatingRotaryPort(guard, provided(caps, RotaryCapabilities.class, engine::rotary));
        this.linear = new ValidatingLinearPort(guard, provided(caps, LinearCapabilities.class, engine::linear));
        this.activation = new ValidatingActivationPort(guard,
                provided(caps, ActivationCapabilities.class, engine::activation));
        this.elementwise = new ValidatingElementwisePort(guard,
                provided(caps, ElementwiseCapabilities.class, engine::elementwise));
        this.embedding = new ValidatingEmbeddingPort(guard, provided(caps, EmbeddingCapabilities.class, engine::embedding));
        this.loss = new ValidatingLossPort(guard, provided(caps, LossCapabilities.class, engine::loss));
        this.optimizer = new ValidatingOptimizerPort(guard, provided(caps, OptimizerCapabilities.class, engine::optimizer));
        this.random = new ValidatingRandomPort(guard, provided(caps, RandomCapabilities.class, engine::random));
        if (!caps.provides(TensorCapabilities.class)) {
            throw new IllegalStateException("engine '" + engine.name() + "' declares no tensor port");
        }
    }

    /** A declared port must be there; an undeclared one is never asked for, let alone called. */
    private <P> P provided(Capabilities caps, Class<? extends PortCapabilities> declaration, Supplier<P> getter) {
        if (!caps.provides(declaration)) {
            return null;
        }
        P port = getter.get();
        if (port == null) {
            throw new IllegalStateException("engine '" + engine.name() + "' declares " + declaration.getSimpleName()
                    + " but provides no port");
        }
        return port;
    }

    /**
     * Wraps an engine (normally done by {@link dev.attn4j.ports.spi.BackendSelector}).
     *
     * @param engine the engine
     * @return the open backend; close it when done
     */
    public static Backend of(BackendEngine engine) {
        return new Backend(engine);
    }

    /** {@return the backend's name} */
    public String name() {
        return engine.name();
    }

    /** {@return what the backend declares, port by port} */
    public Capabilities capabilities() {
        return engine.capabilities();
    }

    /**
     * {@return whether the backend provides the port whose declaration has this type}
     *
     * @param port the class of the port's declaration record, e.g. {@code LinearCapabilities.class}
     */
    public boolean provides(Class<? extends PortCapabilities> port) {
        return engine.capabilities().provides(port);
    }

    /**
     * {@return whether the backend stores {@code dtype}} I32 and BOOL always; floating types as its tensor port
     * declares.
     *
     * @param dtype a storage type
     */
    public boolean stores(DType dtype) {
        return !dtype.isFloating()
                || engine.capabilities().port(TensorCapabilities.class).map(t -> t.supports(dtype)).orElse(false);
    }

    /** {@return the devices in use, one line each} */
    public List<String> devices() {
        return engine.devices();
    }

    /** {@return how many tensors the engine holds open, if it counts them (for leak checks)} */
    public OptionalInt openTensors() {
        return engine.openTensors();
    }

    /** {@return the port for host ↔ device transfers and device-side tensor operations} */
    public TensorPort tensors() {
        return tensors;
    }

    /** {@return the port for attention forward and backward} */
    public AttentionPort attention() {
        return attention;
    }

    /** {@return the port for layerNorm / RMSNorm forward and backward} */
    public NormalizationPort normalization() {
        return normalization;
    }

    /** {@return the port for rotary / xPos application} */
    public RotaryPort rotary() {
        return rotary;
    }

    /** {@return the port for linear layers and matrix products} */
    public LinearPort linear() {
        return linear;
    }

    /** {@return the port for activations and gated linear units} */
    public ActivationPort activation() {
        return activation;
    }

    /** {@return the port for residual adds, accumulation, scaling, broadcasts, token shift} */
    public ElementwisePort elementwise() {
        return elementwise;
    }

    /** {@return the port for embedding look-ups} */
    public EmbeddingPort embedding() {
        return embedding;
    }

    /** {@return the port for fused losses} */
    public LossPort loss() {
        return loss;
    }

    /** {@return the port for fused optimizer steps} */
    public OptimizerPort optimizer() {
        return optimizer;
    }

    /** {@return the port for Philox random fills} */
    public RandomPort random() {
        return random;
    }

    /** {@return whether {@link #close()} was called} */
    public boolean isClosed() {
        return closed;
    }

    /** Closes the engine, freeing every tensor it still owns. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            intRanges.clear();
            engine.close();
        }
    }

    @Override
    public String toString() {
        return "Backend[" + name() + "]";
    }

    /** The checks every validating port shares, over this backend's engine. */
    private final class Guard implements PortGuard {
        @Override
        public String backendName() {
            return engine.name();
        }

        @Override
        public Capabilities capabilities() {
            return engine.capabilities();
        }

        @Override
        public void requireOpen() {
            if (closed) {
                throw new ClosedException("backend '" + name() + "' is closed");
            }
        }

        @Override
        public void requireUsable(String argument, DeviceTensor t) {
            // a closed engine must never be called, even for a tensor it (wrongly) still reports as open
            requireOpen();
            if (t == null) {
                throw new InvalidRequestException(argument, "a tensor", "null");
            }
            if (!engine.owns(t)) {
                throw new InvalidRequestException(argument, "a tensor of backend '" + name() + "'",
                        "a tensor of backend '" + t.backendName() + "'");
            }
            if (t.isClosed()) {
                throw new InvalidRequestException(argument, "an open tensor", "a closed tensor");
            }
        }

        @Override
        public IntRange intRange(DeviceTensor ints) {
            IntRange known = intRanges.get(ints);
            if (known == null) {
                known = IntRange.of(engine.tensors().downloadInts(ints));
                intRanges.put(ints, known);
            }
            return known;
        }

        @Override
        public void recordIntRange(DeviceTensor ints, IntRange range) {
            intRanges.put(ints, range);
        }

        @Override
        public void forgetIntRanges() {
            intRanges.clear();
        }
    }
}
