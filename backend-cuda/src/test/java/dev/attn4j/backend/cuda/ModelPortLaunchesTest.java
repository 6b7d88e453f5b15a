package dev.attn4j.backend.cuda;

import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.Activation;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.BroadcastAxis;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.elementwise.TokenShiftRequest;
import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.linear.WeightLayout;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.GradientClip;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.random.UniformRequest;
import dev.attn4j.ports.tensor.CopyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every model port driven through the engine on a {@link RecordingGpu}, for each dtype: every launch it issues must
 * name a kernel of the catalog, pass exactly the parameter types the PTX declares (a mismatch corrupts every later
 * argument on the device, and no driver reports it), stay within the kernel's {@code .maxntid} and CUDA's grid
 * limits, and point into live allocations; every GEMM's operands must lie inside theirs; and every kernel of the new
 * modules must be launched by some op. No GPU needed; skipped without PTX (nvcc absent at build time).
 */
class ModelPortLaunchesTest {
    private static final List<String> MODEL_MODULES = List.of(KernelCatalog.TENSOR, KernelCatalog.ACTIVATION,
            KernelCatalog.ELEMENTWISE, KernelCatalog.EMBEDDING, KernelCatalog.LOSS, KernelCatalog.OPTIM, KernelCatalog.RANDOM);
    private static RecordingGpu gpu;

    /** One entry's declared parameter types and launch bound (0 when the PTX gives none). */
    private record Entry(List<String> params, int maxThreads) {
    }

    @BeforeAll
    static void driveEveryPort() {
        gpu = new RecordingGpu();
        CudaEngine engine = new CudaEngine(gpu, false, 2);   // chunks of 2 rows: several cross-entropy chunks
        try (Backend cuda = Backend.of(engine)) {
            for (DType t : List.of(DType.F32, DType.F16, DType.BF16)) {
                drive(cuda, t);
            }
        }
    }

    private static DeviceTensor up(Backend b, Shape s, DType t) {
        return b.tensors().upload(new float[Math.toIntExact(s.elementCount())], s, t);
    }

    private static void drive(Backend b, DType t) {
        // tensor port
        DeviceTensor base = up(b, Shape.of(6, 10), t);
        DeviceTensor view = b.tensors().view(base, 7, Shape.of(3, 5));
        b.tensors().fill(view, 0.1f);
        DeviceTensor dst = b.tensors().zeros(Shape.of(40), t);
        b.tensors().copy(new CopyRequest(base, 1, 20, dst, 2, 8, 3, 5));
        for (DType to : List.of(DType.F32, DType.F16, DType.BF16)) {
            b.tensors().cast(view, to).close();
        }
        DeviceTensor ints = b.tensors().uploadInts(new int[12], Shape.of(12));
        b.tensors().copy(CopyRequest.into(ints, b.tensors().zeros(Shape.of(13), DType.I32), 1));
        DeviceTensor bools = b.tensors().uploadBools(new boolean[5], Shape.of(5));
        b.tensors().copy(CopyRequest.into(bools, b.tensors().zeros(Shape.of(9), DType.BOOL), 4));
        // linear
        DeviceTensor x = up(b, Shape.of(2, 3, 8), t);
        for (WeightLayout layout : WeightLayout.values()) {
            Shape ws = layout == WeightLayout.OUT_IN ? Shape.of(5, 8) : Shape.of(8, 5);
            DeviceTensor w = up(b, ws, t);
            DeviceTensor bias = up(b, Shape.of(5), t);
            LinearRequest fwd = new LinearRequest(x, w, bias, layout);
            b.linear().forward(fwd).close();
            DeviceTensor dx = b.linear().backward(new LinearBackwardRequest(fwd, up(b, Shape.of(2, 3, 5), t), true,
                    up(b, ws, t), up(b, Shape.of(5), t)));
            dx.close();
        }
        b.linear().matmul(new MatmulRequest(up(b, Shape.of(1, 4, 6), t), true, up(b, Shape.of(3, 7, 4), t), true,
                up(b, Shape.of(3, 6, 7), t), 0.5f, 1f));
        // activation
        DeviceTensor h = up(b, Shape.of(3, 12), t);
        for (Activation f : Activation.values()) {
            ActivationRequest a = new ActivationRequest(f, h);
            b.activation().forward(a).close();
            b.activation().backward(new ActivationBackwardRequest(a, up(b, Shape.of(3, 12), t))).close();
            GluRequest g = new GluRequest(f, h);
            b.activation().glu(g).close();
            b.activation().gluBackward(new GluBackwardRequest(g, up(b, Shape.of(3, 6), t))).close();
            GluRequest split = GluRequest.split(f, up(b, Shape.of(3, 6), t), up(b, Shape.of(3, 6), t));
            b.activation().glu(split).close();
            b.activation().gluBackward(new GluBackwardRequest(split, up(b, Shape.of(3, 6), t))).close();
        }
        // element-wise
        DeviceTensor e = up(b, Shape.of(2, 4, 6), t);
        b.elementwise().add(new AddRequest(e, up(b, Shape.of(2, 4, 6), t), 2f)).close();
        b.elementwise().axpy(new AxpyRequest(0.5f, up(b, Shape.of(2, 4, 6), t), e));
        b.elementwise().scale(new ScaleRequest(e, 3f));
        for (BroadcastAxis axis : BroadcastAxis.values()) {
            DeviceTensor v = up(b, Shape.of(axis == BroadcastAxis.COLUMNS ? 6 : 8), t);
            BroadcastMultiplyRequest m = new BroadcastMultiplyRequest(e, v, axis);
            b.elementwise().multiply(m).close();
            DeviceTensor dx = b.elementwise().multiplyBackward(new BroadcastMultiplyBackwardRequest(m,
                    up(b, Shape.of(2, 4, 6), t), true, up(b, v.shape(), t)));
            dx.close();
        }
        DeviceTensor segments = b.tensors().uploadInts(new int[] {0, 0, 1, 1, 2, 2, 2, -1}, Shape.of(2, 4));
        TokenShiftRequest shift = new TokenShiftRequest(e, 2, 3, 1, segments);
        b.elementwise().shiftTokens(shift).close();
        b.elementwise().shiftTokens(new TokenShiftRequest(e, 0, 6, -2, null)).close();
        // embedding: 3000 tokens sort through the global merge steps as well as the shared ones
        int[] ids = new int[3000];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 7) % 50;
        }
        EmbeddingRequest emb = new EmbeddingRequest(up(b, Shape.of(50, 130), t), b.tensors().uploadInts(ids, Shape.of(3000)));
        b.embedding().forward(emb).close();
        b.embedding().backward(new EmbeddingBackwardRequest(emb, up(b, Shape.of(3000, 130), t), up(b, Shape.of(50, 130), t)));
        // loss: 5 rows in chunks of 2
        CrossEntropyRequest ce = new CrossEntropyRequest(up(b, Shape.of(5, 8), t), up(b, Shape.of(11, 8), t),
                up(b, Shape.of(11), t), b.tensors().uploadInts(new int[] {1, -100, 3, 10, 0}, Shape.of(5)), -100, 0.2f,
                true, up(b, Shape.of(11, 8), t), up(b, Shape.of(11), t), true);
        b.loss().linearCrossEntropy(ce).close();
        b.loss().linearCrossEntropy(CrossEntropyRequest.evaluation(ce.hidden(), ce.weight(), null, ce.targets())).close();
        // optimizer, random
        DeviceTensor ss = b.tensors().zeros(Shape.of(1), DType.F32);
        b.optimizer().sumOfSquares(new SumOfSquaresRequest(up(b, Shape.of(70), t), ss));
        b.optimizer().adamW(new AdamWRequest(up(b, Shape.of(70), DType.F32), up(b, Shape.of(70), DType.F32),
                up(b, Shape.of(70), DType.F32), up(b, Shape.of(70), DType.F32), 3, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f,
                new GradientClip(1f, ss)));
        b.random().uniform(new UniformRequest(up(b, Shape.of(9), t), -1f, 1f, 0x1234_5678_9ABCL, 1L << 33));
    }

    private static Map<String, Entry> entries(String module) {
        String ptx = KernelCatalog.ptx(module).orElse(null);
        assumeTrue(ptx != null, CudaBackendProvider.NO_KERNELS);
        Map<String, Entry> all = new HashMap<>();
        Matcher m = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)\\s*(\\.maxntid\\s+(\\d+))?").matcher(ptx);
        while (m.find()) {
            List<String> types = new ArrayList<>();
            Matcher p = Pattern.compile("\\.param\\s+\\.(\\w+)").matcher(m.group(2));
            while (p.find()) {
                types.add(p.group(1));
            }
            all.put(m.group(1), new Entry(types, m.group(4) == null ? 0 : Integer.parseInt(m.group(4))));
        }
        return all;
    }

    private static String type(Object a) {
        return switch (a) {
            case DevicePointer p -> "u64";
            case Long l -> "u64";
            case Integer i -> "u32";
            case Float f -> "f32";
            default -> "unexpected " + a.getClass();
        };
    }

    @Test
    void everyLaunchPassesThePtxParameterTypesWithinItsBoundsIntoLiveMemory() {
        Map<String, Entry> declared = new HashMap<>();
        Map<String, String> moduleOf = new HashMap<>();
        for (String module : KernelCatalog.modules()) {
            declared.putAll(entries(module));
            KernelCatalog.entries(module).forEach(k -> moduleOf.put(k, module));
        }
        assertEquals(List.of(), gpu.problems);
        assertTrue(gpu.launches.size() > 100, gpu.launches.size() + " launches");
        for (RecordingGpu.Launch l : gpu.launches) {
            String where = l.kernel() + " " + l.args();
            assertTrue(moduleOf.containsKey(l.kernel()), "not in the catalog (never loaded): " + where);
            Entry e = declared.get(l.kernel());
            assertTrue(e != null, "no .entry " + l.kernel() + " in " + moduleOf.get(l.kernel()) + ".ptx");
            assertEquals(e.params(), l.args().stream().map(ModelPortLaunchesTest::type).toList(), where);
            assertTrue(e.maxThreads() == 0 || l.threads() <= e.maxThreads(), l.threads() + " threads > .maxntid "
                    + e.maxThreads() + ": " + where);
            assertEquals(0, l.threads() % 32, "whole warps: " + where);
            assertTrue(l.gridX() >= 1 && l.gridY() >= 1 && l.gridY() <= 65535 && l.gridZ() >= 1 && l.gridZ() <= 65535,
                    "grid: " + where);
        }
        assertEquals(0, gpu.liveAllocations(), "closing the backend freed every allocation");
    }

    /**
     * A GLU's kernels get the value, the gate's input and the two gradient blocks as pointers: the concatenated form
     * points into x's rows ({@code x + F}, stride {@code 2F}) and dx's, the split form at its two tensors (stride
     * {@code F}) and at the stacked gradient's second block ({@code dx + rows·F}).
     */
    @Test
    void gluLaunchesPointAtTheValueTheGateAndTheGradientBlocks() {
        RecordingGpu g = new RecordingGpu();
        int rows = 5;
        int half = 7;
        try (Backend b = Backend.of(new CudaEngine(g, false, 0))) {
            for (DType t : List.of(DType.F32, DType.BF16)) {
                long size = t.byteSize();
                DeviceTensor x = up(b, Shape.of(rows, 2 * half), t);
                DeviceTensor value = up(b, Shape.of(rows, half), t);
                DeviceTensor gateIn = up(b, Shape.of(rows, half), t);
                DeviceTensor dy = up(b, Shape.of(rows, half), t);
                for (GluRequest r : List.of(new GluRequest(Activation.SILU, x),
                        GluRequest.split(Activation.SILU, value, gateIn))) {
                    boolean split = r.isSplit();
                    int stride = split ? half : 2 * half;
                    DevicePointer a = ((CudaTensor) r.x()).pointer();
                    DevicePointer gate = split ? ((CudaTensor) gateIn).pointer() : a.plus(half * size);
                    g.launches.clear();
                    b.activation().glu(r).close();
                    DeviceTensor dx = b.activation().gluBackward(new GluBackwardRequest(r, dy));
                    assertEquals(r.gradientShape(), dx.shape());
                    DevicePointer d = ((CudaTensor) dx).pointer();
                    assertEquals(2, g.launches.size());
                    List<Object> fwd = g.launches.get(0).args();
                    List<Object> bwd = g.launches.get(1).args();
                    String what = t + (split ? " split" : " concatenated");
                    assertEquals(List.of((long) rows, half, stride, CudaActivation.code(Activation.SILU)),
                            fwd.subList(3, 7), what + " forward");
                    assertEquals(List.of((long) rows, half, stride, CudaActivation.code(Activation.SILU)),
                            bwd.subList(5, 9), what + " backward");
                    assertSame(a, fwd.get(0), what);
                    assertSame(gate, fwd.get(1), what);
                    assertSame(a, bwd.get(0), what);
                    assertSame(gate, bwd.get(1), what);
                    assertSame(((CudaTensor) dy).pointer(), bwd.get(2), what);
                    assertSame(d, bwd.get(3), what + ": the value's gradient first");
                    assertSame(d.plus((split ? (long) rows * half : half) * size), bwd.get(4), what + ": the gate's");
                    dx.close();
                }
            }
            assertEquals(List.of(), g.problems);
        }
        assertEquals(0, g.liveAllocations());
    }

    /** The same address: the same allocation (by identity, as RecordingGpu's are equal by size) and offset. */
    private static void assertSame(DevicePointer want, Object got, String what) {
        assertTrue(got instanceof DevicePointer p && p.allocation() == want.allocation()
                && p.byteOffset() == want.byteOffset(), what + ": " + got + ", not " + want);
    }

    @Test
    void opsFreeTheirTemporaries() {
        RecordingGpu g = new RecordingGpu();
        CudaEngine engine = new CudaEngine(g, false, 2);
        try (Backend b = Backend.of(engine)) {
            DType t = DType.BF16;
            DeviceTensor x = up(b, Shape.of(7, 8), t);
            DeviceTensor w = up(b, Shape.of(5, 8), t);
            DeviceTensor bias = up(b, Shape.of(5), t);
            DeviceTensor dy = up(b, Shape.of(7, 5), t);
            DeviceTensor dW = up(b, Shape.of(5, 8), t);
            DeviceTensor db = up(b, Shape.of(5), t);
            DeviceTensor table = up(b, Shape.of(9, 4), t);
            DeviceTensor ids = b.tensors().uploadInts(new int[] {1, 2, 1, 8, 0, 1, 2}, Shape.of(7));
            DeviceTensor dTable = up(b, Shape.of(9, 4), t);
            DeviceTensor targets = b.tensors().uploadInts(new int[] {1, 2, -100, 4, 0, 1, 2}, Shape.of(7));
            DeviceTensor ss = b.tensors().zeros(Shape.of(1), DType.F32);
            int before = engine.liveTensors();
            LinearRequest fwd = LinearRequest.of(x, w, bias);
            b.linear().backward(new LinearBackwardRequest(fwd, dy, true, dW, db)).close();
            b.embedding().backward(new EmbeddingBackwardRequest(new EmbeddingRequest(table, ids), up(b, Shape.of(7, 4), t),
                    dTable));
            b.loss().linearCrossEntropy(CrossEntropyRequest.training(x, up(b, Shape.of(9, 8), t), null, targets, 0.1f,
                    up(b, Shape.of(9, 8), t), null)).close();
            b.optimizer().sumOfSquares(new SumOfSquaresRequest(x, ss));
            BroadcastMultiplyRequest m = new BroadcastMultiplyRequest(x, up(b, Shape.of(8), t), BroadcastAxis.COLUMNS);
            b.elementwise().multiplyBackward(new BroadcastMultiplyBackwardRequest(m, x, false, up(b, Shape.of(8), t)));
            // the inputs made inline above (dy of the embedding, the head and its gradient, v and its gradient) are the
            // only tensors added
            assertEquals(before + 5, engine.liveTensors());
        }
        assertEquals(0, g.liveAllocations());
    }

    @Test
    void everyKernelOfTheModelModulesIsLaunchedBySomeOp() {
        Set<String> launched = new LinkedHashSet<>();
        gpu.launches.forEach(l -> launched.add(l.kernel()));
        List<String> never = new ArrayList<>();
        for (String module : MODEL_MODULES) {
            for (String k : KernelCatalog.entries(module)) {
                if (!launched.contains(k)) {
                    never.add(k);
                }
            }
        }
        assertEquals(List.of(), never, "catalog entries no op launches");
    }

    @Test
    void gemmsRunInEachDtypeWithFp32LogitsForTheCrossEntropy() {
        assertTrue(gpu.gemms.stream().anyMatch(g -> g.abType() == DType.BF16 && g.cType() == DType.F32),
                "the 16-bit cross-entropy writes fp32 logits");
        for (DType t : List.of(DType.F32, DType.F16, DType.BF16)) {
            assertTrue(gpu.gemms.stream().anyMatch(g -> g.abType() == t && g.cType() == t && g.batch() == 3), t + " batch");
        }
    }
}
