package dev.attn4j.ports;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An open backend: the ports the domain calls, each validating every request before the engine's
 * kernels see it (docs/design.md §6). Validation is here, once, for every backend: shapes and dtypes (by the
 * request records), tensor ownership and liveness, declared capabilities, and index ranges of masks.
 *
 * <pre>{@code
 * try (Backend backend = Backends.open()) {
 *     DeviceTensor q = backend.tensors().upload(qHost, Shape.of(1, 128, 8, 64), DType.F32);
 *     ...
 * }   // frees every tensor the backend still owns
 * }</pre>
 */
public final class Backend implements AutoCloseable {
    private final BackendEngine engine;
    private final TensorPort tensors;
    private final AttentionPort attention;
    private final NormalizationPort normalization;
    private final RotaryPort rotary;
    private volatile boolean closed;
    /**
     * FlashMask tensors whose indices were checked. No op writes an I32 tensor, so a tensor's indices never
     * change once uploaded: checking once spares device backends a device-to-host copy on every call.
     */
    private final Set<DeviceTensor> checkedMasks = java.util.Collections.synchronizedSet(
            java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>()));

    private Backend(BackendEngine engine) {
        this.engine = engine;
        this.tensors = new CheckedTensors();
        this.attention = new CheckedAttention();
        this.normalization = new CheckedNormalization();
        this.rotary = new CheckedRotary();
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

    /**
     * What the backend declares it supports.
     *
     * @return the declared capabilities
     */
    public Capabilities capabilities() {
        return engine.capabilities();
    }

    /** {@return devices in use, one line each} */
    public List<String> devices() {
        return engine.devices();
    }

    /** {@return host ↔ device transfers} */
    public TensorPort tensors() {
        return tensors;
    }

    /** {@return attention forward and backward} */
    public AttentionPort attention() {
        return attention;
    }

    /** {@return layerNorm / RMSNorm forward and backward} */
    public NormalizationPort normalization() {
        return normalization;
    }

    /** {@return rotary / xPos application} */
    public RotaryPort rotary() {
        return rotary;
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
            engine.close();
        }
    }

    @Override
    public String toString() {
        return "Backend[" + name() + "]";
    }

    /**
     * The capabilities an attention call with these options needs, forward or backward.
     *
     * <pre>{@code
     * Set<Capability> needed = Backend.requiredCapabilities(shape, options, true);
     * }</pre>
     *
     * @param shape    the call's sizes
     * @param o        the call's options
     * @param backward whether the call is a backward
     * @return the capabilities the backend must declare
     */
    public static Set<Capability> requiredCapabilities(AttentionShape shape, AttentionOptions o, boolean backward) {
        EnumSet<Capability> need = EnumSet.of(backward ? Capability.ATTENTION_BACKWARD : Capability.ATTENTION_FORWARD);
        if (o.causal()) need.add(Capability.CAUSAL);
        if (shape.heads() != shape.kvHeads()) need.add(Capability.GQA);
        if (o.hasWindow()) need.add(Capability.SLIDING_WINDOW);
        if (o.softcap() > 0) need.add(Capability.SOFTCAP);
        if (o.alibiSlopes() != null) need.add(Capability.ALIBI);
        if (o.biasTable() != null) need.add(Capability.BIAS_TABLE);
        if (o.denseBias() != null) need.add(Capability.DENSE_BIAS);
        if (o.flashMask() != null) need.add(Capability.FLASH_MASK);
        if (o.denseMask() != null) need.add(Capability.DENSE_MASK);
        if (o.dropout().enabled()) need.add(Capability.DROPOUT);
        if (backward && o.deterministic()) need.add(Capability.DETERMINISTIC_BACKWARD);
        if (backward && o.biasTableGrad()) need.add(Capability.BIAS_TABLE_GRAD);
        if (o.layout() == AttentionLayout.BHSD) need.add(Capability.BHSD_LAYOUT);
        return need;
    }

    private void requireOpen() {
        if (closed) {
            throw new Attn4jException("backend '" + name() + "' is closed");
        }
    }

    private void requireUsable(Map<String, DeviceTensor> tensors) {
        requireOpen();
        for (Map.Entry<String, DeviceTensor> e : tensors.entrySet()) {
            requireUsable(e.getKey(), e.getValue());
        }
    }

    private void requireUsable(String argument, DeviceTensor t) {
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

    private void requireDType(DType dtype) {
        engine.capabilities().require(name(), dtype);
    }

    private void checkAttention(AttentionShape shape, AttentionOptions options, DType dtype, boolean backward) {
        Capabilities caps = engine.capabilities();
        requireDType(dtype);
        caps.requireHeadDim(name(), shape.headDim());
        for (Capability c : requiredCapabilities(shape, options, backward)) {
            caps.require(name(), c);
        }
        if (options.flashMask() != null && !checkedMasks.contains(options.flashMask())) {
            int[] rows = engine.tensors().downloadInts(options.flashMask());
            for (int idx = 0; idx < rows.length; idx++) {
                if (rows[idx] < 0) {
                    int n = options.flashMask().shape().dim(3);
                    int col = (idx / n) % shape.seqK();
                    throw new InvalidRequestException("flashMask",
                            "row indices >= 0 (values above Sq = " + shape.seqQ() + " act as Sq)",
                            rows[idx] + " at column " + col + ", slot " + idx % n);
                }
            }
            checkedMasks.add(options.flashMask());
        }
    }

    private final class CheckedTensors implements TensorPort {
        @Override
        public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
            requireOpen();
            InvalidRequestException.check(data != null, "data", "an array", "null");
            InvalidRequestException.check(shape != null, "shape", "a shape", "null");
            InvalidRequestException.check(dtype != null && dtype.isFloating(), "dtype", "F32, F16 or BF16", dtype);
            requireDType(dtype);
            requireLength(data.length, shape);
            return engine.tensors().upload(data, shape, dtype);
        }

        @Override
        public DeviceTensor uploadInts(int[] data, Shape shape) {
            requireOpen();
            InvalidRequestException.check(data != null, "data", "an array", "null");
            InvalidRequestException.check(shape != null, "shape", "a shape", "null");
            requireLength(data.length, shape);
            return engine.tensors().uploadInts(data, shape);
        }

        @Override
        public DeviceTensor uploadBools(boolean[] data, Shape shape) {
            requireOpen();
            InvalidRequestException.check(data != null, "data", "an array", "null");
            InvalidRequestException.check(shape != null, "shape", "a shape", "null");
            requireLength(data.length, shape);
            return engine.tensors().uploadBools(data, shape);
        }

        @Override
        public DeviceTensor zeros(Shape shape, DType dtype) {
            requireOpen();
            InvalidRequestException.check(shape != null, "shape", "a shape", "null");
            InvalidRequestException.check(dtype != null, "dtype", "a dtype", "null");
            if (dtype.isFloating()) {
                requireDType(dtype);
            }
            InvalidRequestException.check(shape.elementCount() <= Integer.MAX_VALUE, "shape",
                    "at most " + Integer.MAX_VALUE + " elements", shape.elementCount());
            return engine.tensors().zeros(shape, dtype);
        }

        @Override
        public float[] download(DeviceTensor tensor) {
            requireUsable("tensor", tensor);
            InvalidRequestException.check(tensor.dtype().isFloating(), "tensor", "a floating dtype (use downloadInts/Bools)",
                    tensor.dtype());
            return engine.tensors().download(tensor);
        }

        @Override
        public int[] downloadInts(DeviceTensor tensor) {
            requireUsable("tensor", tensor);
            InvalidRequestException.check(tensor.dtype() == DType.I32, "tensor", "dtype I32", tensor.dtype());
            return engine.tensors().downloadInts(tensor);
        }

        @Override
        public boolean[] downloadBools(DeviceTensor tensor) {
            requireUsable("tensor", tensor);
            InvalidRequestException.check(tensor.dtype() == DType.BOOL, "tensor", "dtype BOOL", tensor.dtype());
            return engine.tensors().downloadBools(tensor);
        }

        private static void requireLength(int length, Shape shape) {
            InvalidRequestException.check(length == shape.elementCount(), "data",
                    shape.elementCount() + " elements for shape " + shape, length);
        }
    }

    private final class CheckedAttention implements AttentionPort {
        @Override
        public AttentionResult forward(AttentionRequest request) {
            InvalidRequestException.check(request != null, "request", "an AttentionRequest", "null");
            requireUsable(request.tensors());
            checkAttention(request.shape(), request.options(), request.q().dtype(), false);
            // tied to its request and this checked port: result.backward(dO) cannot drift from the forward
            return engine.attention().forward(request).boundTo(request, this);
        }

        @Override
        public AttentionGradients backward(AttentionBackwardRequest request) {
            InvalidRequestException.check(request != null, "request", "an AttentionBackwardRequest", "null");
            requireUsable(request.tensors());
            checkAttention(request.shape(), request.options(), request.q().dtype(), true);
            return engine.attention().backward(request);
        }
    }

    private final class CheckedNormalization implements NormalizationPort {
        @Override
        public NormResult forward(NormRequest request) {
            InvalidRequestException.check(request != null, "request", "a NormRequest", "null");
            requireUsable(request.tensors());
            checkNorm(request);
            return engine.normalization().forward(request);
        }

        @Override
        public NormGradients backward(NormBackwardRequest request) {
            InvalidRequestException.check(request != null, "request", "a NormBackwardRequest", "null");
            requireUsable(request.tensors());
            checkNorm(request.forward());
            return engine.normalization().backward(request);
        }

        private void checkNorm(NormRequest r) {
            Capabilities caps = engine.capabilities();
            requireDType(r.input().dtype());
            requireDType(r.gamma().dtype());
            caps.require(name(), r.kind() == NormKind.LAYER_NORM ? Capability.LAYER_NORM : Capability.RMS_NORM);
            if (r.residual() != null) {
                caps.require(name(), Capability.FUSED_RESIDUAL_NORM);
            }
        }
    }

    private final class CheckedRotary implements RotaryPort {
        @Override
        public DeviceTensor apply(RotaryRequest request) {
            InvalidRequestException.check(request != null, "request", "a RotaryRequest", "null");
            requireUsable(request.tensors());
            engine.capabilities().require(name(), Capability.ROTARY);
            requireDType(request.x().dtype());
            return engine.rotary().apply(request);
        }
    }
}
