package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.ClosedException;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.spi.TensorRegistry;
import dev.attn4j.ports.tensor.TensorCapabilities;
import dev.attn4j.ports.tensor.TensorFeature;
import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationCapabilities;
import dev.attn4j.ports.activation.ActivationPort;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.elementwise.ElementwiseCapabilities;
import dev.attn4j.ports.elementwise.ElementwisePort;
import dev.attn4j.ports.embedding.EmbeddingCapabilities;
import dev.attn4j.ports.embedding.EmbeddingPort;
import dev.attn4j.ports.linear.LinearCapabilities;
import dev.attn4j.ports.linear.LinearPort;
import dev.attn4j.ports.loss.LossCapabilities;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.optim.OptimizerCapabilities;
import dev.attn4j.ports.optim.OptimizerPort;
import dev.attn4j.ports.random.RandomCapabilities;
import dev.attn4j.ports.random.RandomPort;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.spi.DeviceKind;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import dev.attn4j.ports.tensor.TensorPort;
import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The TornadoVM engine: tensors kept on one device in the engine's heaps ({@link DeviceHeap}); attention (every
 * mask, bias and dropout feature), LayerNorm/RMSNorm, rotary, and the model ports (linear and matmul on
 * {@link GemmKernels}, activations, element-wise ops, embedding, fused linear cross-entropy, AdamW, the uniform
 * fill: {@link ModelKernels}) written in TornadoVM's Java dialect, all graphs of one execution plan compiled once
 * (and again only if a heap grows). F32 only: 16-bit storage is not declared (POCL has no {@code cl_khr_fp16}).
 * Loaded reflectively by the provider (static {@link #probe()} and {@link #open}), so the provider itself never
 * links against TornadoVM.
 *
 * <p>Options ({@code -Dattn4j.tornado.<key>=...}): {@code device} — {@code backend:device} indices as TornadoVM
 * numbers them (e.g. {@code 0:0}, the default device), or a case-insensitive substring of a device's name;
 * {@code heapMiB} — the float heap's initial size, 1..4096 (default 16; the int heap starts at a sixteenth).
 * A heap doubles when full, up to 2^30 elements (4 GiB), which recompiles the kernels once, so a long job on a
 * large device may want to start it at its working-set size.
 */
public final class TornadoEngine implements BackendEngine {
    /** The backend's name. */
    public static final String NAME = "tornado";
    /** Head dims the attention tests cover; the kernel loops over D, so any size works, slowly for large D. */
    private static final int MAX_HEAD_DIM = AttentionKernels.MAX_HEAD_DIM;

    /** Default initial float-heap size; the int heap (FlashMask indices, masks) starts at a sixteenth of it. */
    private static final int DEFAULT_HEAP_MIB = 16;

    private final TornadoDevice device;
    private final Capabilities capabilities;
    private final TornadoTensors tensors;
    private final DeviceHeap heap;
    private final TornadoNormalization normalization;
    private final TornadoAttention attention;
    private final TornadoRotary rotary;
    private final TornadoLinear linear;
    private final TornadoActivation activation;
    private final TornadoElementwise elementwise;
    private final TornadoEmbedding embedding;
    private final TornadoLoss loss;
    private final TornadoOptimizer optimizer;
    private final TornadoRandom random;
    /** Weak: a tensor dropped unclosed returns its heap block through a Cleaner, and must not be kept alive here. */
    private final TensorRegistry<TornadoTensor> owned = TensorRegistry.weak();
    private boolean closed;

    private TornadoEngine(TornadoDevice device, int heapMiB) {
        this.device = device;
        // Every attention feature but the BHSD layout: the kernels implement the rest, and the conformance suite
        // checks each against its oracle. The backward is always deterministic (one work item owns each output row
        // and sums in a fixed order). The kernels index [B, S, H, D] only: BHSD (a stride change) is not declared
        // until they are built and run against it. F32 only: POCL has no cl_khr_fp16.
        Set<DType> f32 = EnumSet.of(DType.F32);
        // Views at any element offset (a view is a window of its root's heap block), copies, casts (F32 to F32
        // only) and fills.
        this.capabilities = Capabilities.of(new TensorCapabilities(f32, EnumSet.allOf(TensorFeature.class), 1),
                new AttentionCapabilities(f32, EnumSet.complementOf(EnumSet.of(AttentionFeature.BHSD_LAYOUT)), 1,
                        MAX_HEAD_DIM),
                NormCapabilities.all(f32), new RotaryCapabilities(f32),
                new LinearCapabilities(f32), new ActivationCapabilities(f32, EnumSet.allOf(Activation.class)),
                new ElementwiseCapabilities(f32), new EmbeddingCapabilities(f32), new LossCapabilities(f32),
                new OptimizerCapabilities(f32), new RandomCapabilities(f32));
        int floats = (int) Math.min(DeviceHeap.MAX_ELEMENTS, (long) heapMiB * (1 << 20) / Float.BYTES);
        this.heap = new DeviceHeap(device, floats, Math.max(DeviceHeap.ALIGNMENT, floats / 16));
        this.tensors = new TornadoTensors(this);
        this.normalization = new TornadoNormalization(this, tensors);
        this.attention = new TornadoAttention(this, tensors);
        this.rotary = new TornadoRotary(this, tensors);
        this.linear = new TornadoLinear(this, tensors);
        this.activation = new TornadoActivation(this, tensors);
        this.elementwise = new TornadoElementwise(this, tensors);
        this.embedding = new TornadoEmbedding(this, tensors);
        this.loss = new TornadoLoss(this, tensors);
        this.optimizer = new TornadoOptimizer(this, tensors);
        this.random = new TornadoRandom(this);
    }

    /** The devices TornadoVM sees, one line each as {@code backend:device name (platform)}. */
    public static Availability probe() {
        List<String> devices = deviceLines();
        if (devices.isEmpty()) {
            return Availability.unavailable("TornadoVM runtime found, but it reports no device");
        }
        // The kind of the device open() would take (the device option's, else TornadoVM's default), so that
        // TornadoVM on an OpenCL CPU device (POCL) is ranked below the native cpu backend.
        String type;
        try {
            type = String.valueOf(select(BackendOptions.fromSystemProperties(NAME).get("device").orElse(null))
                    .getDeviceType());
        } catch (RuntimeException e) {
            type = "unknown (" + e.getMessage() + ")";
        }
        DeviceKind kind = switch (type) {
            case "GPU" -> DeviceKind.GPU;
            case "ACCELERATOR", "FPGA" -> DeviceKind.ACCELERATOR;
            case "CPU" -> DeviceKind.HOST_DEVICE;
            default -> DeviceKind.UNKNOWN;
        };
        return Availability.available("TornadoVM with " + devices.size() + " device(s); the one it would use is "
                + (kind == DeviceKind.UNKNOWN ? "of unknown type (TornadoVM says " + type + ")" : "a " + type),
                devices, kind);
    }

    /** Opens the engine on the device named by the {@code device} option, or TornadoVM's default device. */
    public static TornadoEngine open(BackendOptions options) {
        String heap = options.get("heapMiB").orElse(String.valueOf(DEFAULT_HEAP_MIB)).trim();
        int heapMiB;
        try {
            heapMiB = Integer.parseInt(heap);
        } catch (NumberFormatException e) {
            heapMiB = -1;
        }
        if (heapMiB < 1 || heapMiB > 4096) {
            throw new DeviceException(NAME, "BAD_OPTION", "backend option 'heapMiB': expected a whole number of MiB "
                    + "in 1..4096, got '" + heap + "'");
        }
        return new TornadoEngine(select(options.get("device").orElse(null)), heapMiB);
    }

    private static List<String> deviceLines() {
        TornadoRuntime runtime = TornadoRuntimeProvider.getTornadoRuntime();
        List<String> lines = new ArrayList<>();
        for (int b = 0; b < runtime.getNumBackends(); b++) {
            TornadoBackend backend = runtime.getBackend(b);
            for (int d = 0; d < backend.getNumDevices(); d++) {
                TornadoDevice dev = backend.getDevice(d);
                lines.add(b + ":" + d + " " + dev.getPhysicalDevice().getDeviceName() + " (" + backend.getName() + ", "
                        + dev.getPlatformName() + ")");
            }
        }
        return lines;
    }

    private static TornadoDevice select(String wanted) {
        TornadoRuntime runtime = TornadoRuntimeProvider.getTornadoRuntime();
        if (wanted == null || wanted.isBlank()) {
            return runtime.getDefaultDevice();
        }
        String w = wanted.trim();
        if (w.matches("\\d+:\\d+")) {
            String[] parts = w.split(":");
            int b = Integer.parseInt(parts[0]);
            int d = Integer.parseInt(parts[1]);
            if (b < runtime.getNumBackends() && d < runtime.getBackend(b).getNumDevices()) {
                return runtime.getBackend(b).getDevice(d);
            }
        } else {
            for (int b = 0; b < runtime.getNumBackends(); b++) {
                TornadoBackend backend = runtime.getBackend(b);
                for (int d = 0; d < backend.getNumDevices(); d++) {
                    TornadoDevice dev = backend.getDevice(d);
                    if (dev.getPhysicalDevice().getDeviceName().toLowerCase().contains(w.toLowerCase())) {
                        return dev;
                    }
                }
            }
        }
        throw new DeviceException(NAME, "NO_SUCH_DEVICE", "backend option 'device': expected 'backend:device' "
                + "indices or a name substring of one of " + deviceLines() + ", got '" + wanted + "'");
    }

    /** A tensor over {@code block}, registered so that closing the engine closes it. */
    synchronized TornadoTensor track(Shape shape, DType dtype, DeviceHeap.Block block) {
        if (closed) { // a defence: callers reach the heap (and so this) only through heap(), which checks too
            heap.free(block);
            throw new ClosedException("the tornado backend was closed before this call could run");
        }
        TornadoTensor tensor = new TornadoTensor(this, shape, dtype, block);
        owned.register(tensor);
        return tensor;
    }

    /**
     * A view of {@code shape} over {@code base}'s elements from {@code offset} (the facade checked the range),
     * registered, and attached to {@code base} so that closing {@code base} closes it.
     */
    synchronized TornadoTensor trackView(TornadoTensor base, long offset, Shape shape) {
        if (closed) {
            throw new ClosedException("the tornado backend was closed before this call could run");
        }
        DeviceHeap.Block b = base.block();
        DeviceHeap.Block window = new DeviceHeap.Block(b.ints(), Math.toIntExact(b.offset() + offset),
                (int) Math.max(1, shape.elementCount()));
        TornadoTensor view = new TornadoTensor(base, shape, window);
        base.attach(view);
        owned.register(view);
        return view;
    }

    /** Forgets a tensor being closed (its block goes back through its cleaner). */
    synchronized void forget(TornadoTensor tensor) {
        owned.release(tensor);
    }

    /** Returns a closed tensor's block to its heap (nothing to do once the engine, and its heaps, are closed). */
    synchronized void release(DeviceHeap.Block block) {
        if (!closed) {
            heap.free(block);
        }
    }

    /** The device heaps. Use with the engine's lock held. */
    DeviceHeap heap() {
        if (closed) {
            throw new ClosedException("the tornado backend was closed before this call could run");
        }
        return heap;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    @Override
    public List<String> devices() {
        return List.of(device.getPhysicalDevice().getDeviceName() + " (" + device.getPlatformName() + ")");
    }

    @Override
    public TensorPort tensors() {
        return tensors;
    }

    @Override
    public AttentionPort attention() {
        return attention;
    }

    @Override
    public NormalizationPort normalization() {
        return normalization;
    }

    @Override
    public RotaryPort rotary() {
        return rotary;
    }

    @Override
    public LinearPort linear() {
        return linear;
    }

    @Override
    public ActivationPort activation() {
        return activation;
    }

    @Override
    public ElementwisePort elementwise() {
        return elementwise;
    }

    @Override
    public EmbeddingPort embedding() {
        return embedding;
    }

    @Override
    public LossPort loss() {
        return loss;
    }

    @Override
    public OptimizerPort optimizer() {
        return optimizer;
    }

    @Override
    public RandomPort random() {
        return random;
    }

    /** Made by this engine, open or closed: the facade reports a closed one as closed, not as foreign. */
    @Override
    public boolean owns(DeviceTensor tensor) {
        return tensor instanceof TornadoTensor t && t.owner() == this;
    }

    /** Tensors made and neither closed nor collected (leak checks read it). */
    @Override
    public synchronized OptionalInt openTensors() {
        return OptionalInt.of(owned.size());
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        owned.closeAll(TornadoTensor::close);
        closed = true;
        heap.close();
    }
}
