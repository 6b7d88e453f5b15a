package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.Capabilities;
import dev.attn4j.ports.Capability;
import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.rotary.RotaryPort;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendEngine;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.TensorPort;
import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * The TornadoVM engine: tensors in TornadoVM off-heap arrays; attention (every mask, bias and dropout feature),
 * LayerNorm/RMSNorm and rotary kernels written in TornadoVM's Java dialect and compiled into reusable execution
 * plans on one device. F32 only: 16-bit storage is not declared (POCL has no {@code cl_khr_fp16}). Loaded reflectively by the provider (static {@link #probe()} and
 * {@link #open}), so the provider itself never links against TornadoVM.
 *
 * <p>Options ({@code -Dattn4j.tornado.<key>=...}): {@code device} — {@code backend:device} indices as TornadoVM
 * numbers them (e.g. {@code 0:0}, the default device), or a case-insensitive substring of a device's name.
 */
public final class TornadoEngine implements BackendEngine {
    /** The backend's name. */
    public static final String NAME = "tornado";
    /**
     * Every feature: the kernels implement them all, and the conformance suite checks each against its oracle.
     * The backward is always deterministic (one work item owns each output row and sums in a fixed order).
     */
    private static final Set<Capability> FEATURES = EnumSet.allOf(Capability.class);
    /** Head dims the attention tests cover; the kernel loops over D, so any size works, slowly for large D. */
    private static final int MAX_HEAD_DIM = AttentionKernels.MAX_HEAD_DIM;

    private final TornadoDevice device;
    private final Capabilities capabilities;
    private final TornadoTensors tensors;
    private final Plans plans;
    private final TornadoNormalization normalization;
    private final TornadoAttention attention;
    private final TornadoRotary rotary;
    private final Set<TornadoTensor> owned = Collections.newSetFromMap(new WeakHashMap<>());
    private boolean closed;

    private TornadoEngine(TornadoDevice device) {
        this.device = device;
        this.capabilities = new Capabilities(EnumSet.of(DType.F32), FEATURES, 1, MAX_HEAD_DIM);
        this.tensors = new TornadoTensors(this);
        this.plans = new Plans(device);
        this.normalization = new TornadoNormalization(this, tensors, plans);
        this.attention = new TornadoAttention(this, tensors, plans);
        this.rotary = new TornadoRotary(this, tensors, plans);
    }

    /** The devices TornadoVM sees, one line each as {@code backend:device name (platform)}. */
    public static Availability probe() {
        List<String> devices = deviceLines();
        if (devices.isEmpty()) {
            return Availability.unavailable("TornadoVM runtime found, but it reports no device");
        }
        return Availability.available("TornadoVM with " + devices.size() + " device(s)", devices);
    }

    /** Opens the engine on the device named by the {@code device} option, or TornadoVM's default device. */
    public static TornadoEngine open(BackendOptions options) {
        return new TornadoEngine(select(options.get("device").orElse(null)));
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

    /** Registers a tensor this engine made. */
    synchronized DeviceTensor track(TornadoTensor tensor) {
        if (closed) {
            throw new IllegalStateException("tornado engine is closed");
        }
        owned.add(tensor);
        return tensor;
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
    public synchronized boolean owns(DeviceTensor tensor) {
        return tensor instanceof TornadoTensor t && owned.contains(t);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (TornadoTensor t : List.copyOf(owned)) {
            t.close();
        }
        owned.clear();
        plans.close();
    }
}
