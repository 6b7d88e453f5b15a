package dev.attn4j.ports.fake;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.norm.NormFeature;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorPort;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A heap-backed fake engine for testing the {@link dev.attn4j.ports.Backend} facade. Its kernels compute
 * nothing (they return zero tensors of the right shapes); what matters is that every call into the engine is
 * recorded, so a test can prove that a rejected request never reached a kernel, and that live tensors are
 * counted, so it can prove nothing leaked.
 *
 * <pre>{@code
 * HeapEngine engine = new HeapEngine("heap", HeapEngine.everything());
 * Backend backend = Backend.of(engine);
 * ...
 * assertTrue(engine.kernelCalls().isEmpty());
 * }</pre>
 */
public final class HeapEngine implements BackendEngine {
    private final String name;
    private final Capabilities capabilities;
    private final List<String> kernelCalls = new ArrayList<>();
    private AttentionBackwardRequest lastBackward;
    private final List<String> transferCalls = new ArrayList<>();
    private final Set<HeapTensor> live = new LinkedHashSet<>();
    private int closeCalls;

    /** An engine declaring {@code capabilities}. */
    public HeapEngine(String name, Capabilities capabilities) {
        this.name = name;
        this.capabilities = capabilities;
    }

    private static final Set<DType> FLOATING = EnumSet.of(DType.F32, DType.F16, DType.BF16);

    /** Every floating dtype; attention (every feature, head dims 1..256), norms and rotary. */
    public static Capabilities everything() {
        return Capabilities.of(TensorCapabilities.transfers(FLOATING),
                new AttentionCapabilities(FLOATING, EnumSet.allOf(AttentionFeature.class), 1, 256),
                NormCapabilities.all(FLOATING), new RotaryCapabilities(FLOATING));
    }

    /** {@link #everything()} less the given attention features. */
    public static Capabilities without(AttentionFeature first, AttentionFeature... rest) {
        EnumSet<AttentionFeature> features = EnumSet.allOf(AttentionFeature.class);
        features.removeAll(EnumSet.of(first, rest));
        return everything().with(new AttentionCapabilities(FLOATING, features, 1, 256));
    }

    /** {@link #everything()} less the given norm feature. */
    public static Capabilities without(NormFeature feature) {
        EnumSet<NormFeature> features = EnumSet.allOf(NormFeature.class);
        features.remove(feature);
        return everything().with(new NormCapabilities(FLOATING, features));
    }

    /** {@link #everything()} in F32 only. */
    public static Capabilities f32Only() {
        Set<DType> f32 = EnumSet.of(DType.F32);
        return Capabilities.of(TensorCapabilities.transfers(f32),
                new AttentionCapabilities(f32, EnumSet.allOf(AttentionFeature.class), 1, 256),
                NormCapabilities.all(f32), new RotaryCapabilities(f32));
    }

    /** {@link #everything()} with attention's head dims limited to {@code [min, max]}. */
    public static Capabilities headDims(int min, int max) {
        return everything().with(new AttentionCapabilities(FLOATING, EnumSet.allOf(AttentionFeature.class), min, max));
    }

    /** {@link #everything()} without the rotary port. */
    public static Capabilities withoutRotary() {
        return Capabilities.of(TensorCapabilities.transfers(FLOATING),
                new AttentionCapabilities(FLOATING, EnumSet.allOf(AttentionFeature.class), 1, 256),
                NormCapabilities.all(FLOATING));
    }

    /** The last attention backward request a kernel received, or null. */
    public AttentionBackwardRequest lastBackward() {
        return lastBackward;
    }

    /** Kernels called so far, e.g. {@code attention.forward}. */
    public List<String> kernelCalls() {
        return List.copyOf(kernelCalls);
    }

    /** Transfers called so far, e.g. {@code upload}, {@code downloadInts}. */
    public List<String> transferCalls() {
        return List.copyOf(transferCalls);
    }

    /** Tensors made and not yet closed. */
    public int liveTensors() {
        return live.size();
    }

    /** How often {@link #close()} was called. */
    public int closeCalls() {
        return closeCalls;
    }

    void released(HeapTensor t) {
        live.remove(t);
    }

    private HeapTensor make(Shape shape, DType dtype, float[] f, int[] i, boolean[] b) {
        HeapTensor t = new HeapTensor(this, shape, dtype, f, i, b);
        live.add(t);
        return t;
    }

    private HeapTensor zerosOf(Shape shape, DType dtype) {
        int n = Math.toIntExact(shape.elementCount());
        return switch (dtype) {
            case I32 -> make(shape, dtype, null, new int[n], null);
            case BOOL -> make(shape, dtype, null, null, new boolean[n]);
            default -> make(shape, dtype, new float[n], null, null);
        };
    }

    private static HeapTensor heap(DeviceTensor t) {
        return (HeapTensor) t;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    @Override
    public List<String> devices() {
        return List.of("heap: the Java heap");
    }

    @Override
    public boolean owns(DeviceTensor tensor) {
        return tensor instanceof HeapTensor h && h.owner == this;
    }

    @Override
    public void close() {
        closeCalls++;
        for (HeapTensor t : List.copyOf(live)) {
            t.close();
        }
    }

    @Override
    public TensorPort tensors() {
        return new TensorPort() {
            @Override
            public DeviceTensor upload(float[] data, Shape shape, DType dtype) {
                transferCalls.add("upload");
                return make(shape, dtype, data.clone(), null, null);
            }

            @Override
            public DeviceTensor uploadInts(int[] data, Shape shape) {
                transferCalls.add("uploadInts");
                return make(shape, DType.I32, null, data.clone(), null);
            }

            @Override
            public DeviceTensor uploadBools(boolean[] data, Shape shape) {
                transferCalls.add("uploadBools");
                return make(shape, DType.BOOL, null, null, data.clone());
            }

            @Override
            public DeviceTensor zeros(Shape shape, DType dtype) {
                transferCalls.add("zeros");
                return zerosOf(shape, dtype);
            }

            @Override
            public float[] download(DeviceTensor tensor) {
                transferCalls.add("download");
                return heap(tensor).floats.clone();
            }

            @Override
            public int[] downloadInts(DeviceTensor tensor) {
                transferCalls.add("downloadInts");
                return heap(tensor).ints.clone();
            }

            @Override
            public boolean[] downloadBools(DeviceTensor tensor) {
                transferCalls.add("downloadBools");
                return heap(tensor).bools.clone();
            }
        };
    }

    @Override
    public AttentionPort attention() {
        return new AttentionPort() {
            @Override
            public AttentionResult forward(AttentionRequest request) {
                kernelCalls.add("attention.forward");
                AttentionShape s = request.shape();
                return new AttentionResult(zerosOf(s.queryShape(request.options().layout()), request.q().dtype()),
                        zerosOf(s.lseShape(), DType.F32));
            }

            @Override
            public AttentionGradients backward(AttentionBackwardRequest request) {
                kernelCalls.add("attention.backward");
                lastBackward = request;
                AttentionShape s = request.shape();
                DType dt = request.q().dtype();
                var layout = request.options().layout();
                return new AttentionGradients(zerosOf(s.queryShape(layout), dt), zerosOf(s.keyShape(layout), dt),
                        zerosOf(s.keyShape(layout), dt),
                        request.options().biasTableGrad() ? zerosOf(s.biasTableShape(), DType.F32) : null);
            }
        };
    }

    @Override
    public NormalizationPort normalization() {
        return new NormalizationPort() {
            @Override
            public NormResult forward(NormRequest r) {
                kernelCalls.add("norm.forward");
                Shape stats = r.statsShape();
                return new NormResult(zerosOf(r.input().shape(), r.input().dtype()),
                        r.kind() == NormKind.LAYER_NORM ? zerosOf(stats, DType.F32) : null,
                        zerosOf(stats, DType.F32),
                        r.residual() != null ? zerosOf(r.input().shape(), r.input().dtype()) : null);
            }

            @Override
            public NormGradients backward(NormBackwardRequest r) {
                kernelCalls.add("norm.backward");
                NormRequest f = r.forward();
                return new NormGradients(zerosOf(f.input().shape(), f.input().dtype()),
                        f.residual() != null ? zerosOf(f.input().shape(), f.input().dtype()) : null,
                        zerosOf(f.gamma().shape(), f.gamma().dtype()),
                        f.beta() != null ? zerosOf(f.beta().shape(), f.beta().dtype()) : null);
            }
        };
    }

    @Override
    public RotaryPort rotary() {
        return (RotaryRequest r) -> {
            kernelCalls.add("rotary.apply");
            return zerosOf(r.x().shape(), r.x().dtype());
        };
    }
}
