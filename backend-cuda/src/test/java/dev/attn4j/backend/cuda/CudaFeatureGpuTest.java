package dev.attn4j.backend.cuda;

import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionGrads;
import dev.attn4j.oracle.AttentionOracle;
import dev.attn4j.oracle.AttentionOutputs;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.DenseBias;
import dev.attn4j.oracle.DenseMaskFlags;
import dev.attn4j.oracle.FlashMaskIndices;
import dev.attn4j.oracle.Precision;
import dev.attn4j.oracle.RotaryOracle;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.rotary.RotaryLayout;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static dev.attn4j.oracle.HostArrays.doubles;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every mask, bias, softcap and dropout feature, and rotary, against the float64 oracle ({@link AttentionOracle},
 * {@link RotaryOracle}) on a real device, for each dtype. Skipped, with the probe's reason, where the backend is unavailable.
 * Tolerances are {@link CudaGpuTest}'s.
 */
class CudaFeatureGpuTest {
    private static Availability availability;

    @BeforeAll
    static void probe() {
        availability = new CudaBackendProvider().probe();
    }

    private static Backend open() {
        assumeTrue(availability.available(), availability.reason());
        return Backend.of(new CudaBackendProvider().open(BackendOptions.none()));
    }

    /**
     * What a case asks for; arrays are host copies of the option tensors (null = absent). Dense tensors are
     * {@code [dB, dH, Sq, Sk]} with 1 where broadcast.
     */
    record Spec(boolean causal, int windowLeft, int windowRight, double softcap, float[] alibi, boolean alibiPerBatch,
                float[] table, boolean[] denseMask, int maskB, int maskH, float[] denseBias, int biasB, int biasH,
                int[] flashMask, int maskHeads, int n, double dropP, long seed, long offset) {

        /** The case on these inputs, as the oracle takes it ({@code bias}: the dense bias as the device stores it). */
        AttentionProblem problem(AttentionDims dims, float[] q, float[] k, float[] v, double scale, float[] bias) {
            return new AttentionProblem(dims, doubles(q), doubles(k), doubles(v), scale, causal, windowLeft, windowRight,
                    softcap, doubles(alibi), doubles(table), bias == null ? null : new DenseBias(biasB, biasH, doubles(bias)),
                    flashMask == null ? null : new FlashMaskIndices(maskHeads, n, flashMask),
                    denseMask == null ? null : new DenseMaskFlags(maskB, maskH, denseMask), new Dropout(dropP, seed, offset));
        }
    }

    /** Host data of one feature case. */
    private record Case(String name, AttentionDims dims, Spec spec, boolean biasInStorageType) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final AttentionDims GQA = new AttentionDims(2, 37, 53, 4, 2, 40);
    private static final AttentionDims DOCS = new AttentionDims(2, 100, 100, 4, 2, 24);

    private static Spec spec(boolean causal, int wl, int wr, double softcap, float[] alibi, boolean perBatch,
                                              float[] table) {
        return new Spec(causal, wl, wr, softcap, alibi, perBatch, table, null, 1, 1, null, 1, 1, null, 1, 1,
                0, 0, 0);
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    /** FlashMask row indices of two documents per column, with values above Sq (which act as Sq). */
    private static int[] documents(AttentionDims n, int heads, int width, boolean causal) {
        int[] m = new int[n.batch() * heads * n.seqK() * width];
        for (int b = 0; b < n.batch(); b++) for (int h = 0; h < heads; h++) for (int j = 0; j < n.seqK(); j++) {
            int at = ((b * heads + h) * n.seqK() + j) * width;
            boolean first = j < n.seqK() * 2 / 5;
            int end = first ? n.seqQ() * 2 / 5 + h : n.seqQ() + 7;
            m[at] = end;
            if (width == 2) {
                m[at + 1] = causal ? n.seqQ() + 3 : (first ? 0 : n.seqQ() * 2 / 5 + b);
            } else if (width == 4) {
                m[at + 1] = n.seqQ() + 5;
                m[at + 2] = j % 5;
                m[at + 3] = Math.max(j % 5, first ? 0 : Math.min(n.seqQ() * 2 / 5 + j % 4, n.seqQ()));
            }
        }
        return m;
    }

    static Stream<Arguments> cases() {
        Random rnd = new Random(5);
        List<Case> all = new ArrayList<>();
        all.add(new Case("window(5,3)", GQA, spec(false, 5, 3, 0, null, false, null), false));
        all.add(new Case("causal window(8,-1) Sq>Sk", new AttentionDims(1, 70, 50, 2, 2, 20),
                spec(true, 8, -1, 0, null, false, null), false));
        all.add(new Case("softcap alibi[H]", GQA, spec(false, -1, -1, 2, new float[] {0.5f, 0, 0.125f, 0.0625f}, false, null),
                false));
        float[] perBatch = new float[8];
        for (int x = 0; x < 8; x++) {
            perBatch[x] = 0.05f * (x + 1);
        }
        all.add(new Case("causal alibi[B,H]", GQA, spec(true, -1, -1, 0, perBatch, true, null), false));
        all.add(new Case("causal softcap table", GQA, spec(true, -1, -1, 3, null, false, gaussian(rnd, 4 * (37 + 53 - 1))),
                false));
        for (int[] form : new int[][] {{1, 1}, {1, 2}, {0, 2}, {0, 4}}) {
            boolean causal = form[0] == 1;
            int width = form[1];
            int heads = width == 4 ? 4 : 2;
            all.add(new Case("flashmask causal=" + causal + " n=" + width + " Hm=" + heads, DOCS,
                    new Spec(causal, -1, -1, 0, null, false, null, null, 1, 1, null, 1, 1,
                            documents(DOCS, heads, width, causal), heads, width, 0, 0, 0), false));
        }
        boolean[] mask = new boolean[4 * 37 * 53];
        for (int x = 0; x < mask.length; x++) {
            mask[x] = rnd.nextDouble() < 0.6 && (x / 53) % 11 != 3;  // some rows see no key
        }
        all.add(new Case("dense mask[1,H] bias[B,1] f32", GQA, new Spec(false, -1, -1, 0, null, false, null,
                mask, 1, 4, gaussian(rnd, 2 * 37 * 53), 2, 1, null, 1, 1, 0, 0, 0), false));
        all.add(new Case("causal dense bias[1,1] storage dtype", GQA, new Spec(true, -1, -1, 0, null, false,
                null, null, 1, 1, gaussian(rnd, 37 * 53), 1, 1, null, 1, 1, 0, 0, 0), true));
        all.add(new Case("dropout 0.3", GQA, new Spec(false, -1, -1, 0, null, false, null, null, 1, 1, null,
                1, 1, null, 1, 1, 0.3, 0x123456789abcdefL, 0x500000007L), false));
        List<Arguments> args = new ArrayList<>();
        for (DType dtype : KernelCatalog.DTYPES) {
            for (Case c : all) {
                args.add(Arguments.of(dtype, c));
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void attentionWithFeaturesMatchesTheOracle(DType dtype, Case c) {
        AttentionDims n = c.dims();
        Spec f = c.spec();
        Random rnd = new Random(42);
        try (Backend cuda = open()) {
            DeviceTensor q = CudaGpuTest.upload(cuda, rnd, Shape.of(n.batch(), n.seqQ(), n.heads(), n.headDim()), dtype);
            DeviceTensor k = CudaGpuTest.upload(cuda, rnd, Shape.of(n.batch(), n.seqK(), n.kvHeads(), n.headDim()), dtype);
            DeviceTensor v = CudaGpuTest.upload(cuda, rnd, Shape.of(n.batch(), n.seqK(), n.kvHeads(), n.headDim()), dtype);
            DeviceTensor dO = CudaGpuTest.upload(cuda, rnd, Shape.of(n.batch(), n.seqQ(), n.heads(), n.headDim()), dtype);
            AttentionOptions.Builder b = AttentionOptions.builder().causal(f.causal()).window(f.windowLeft(), f.windowRight())
                    .softcap(f.softcap());
            if (f.alibi() != null) {
                b.alibiSlopes(cuda.tensors().upload(f.alibi(), f.alibiPerBatch() ? Shape.of(n.batch(), n.heads()) : Shape.of(n.heads()),
                        DType.F32));
            }
            if (f.table() != null) {
                b.biasTable(cuda.tensors().upload(f.table(), Shape.of(n.heads(), n.seqQ() + n.seqK() - 1), DType.F32));
            }
            if (f.denseMask() != null) {
                b.denseMask(cuda.tensors().uploadBools(f.denseMask(), Shape.of(f.maskB(), f.maskH(), n.seqQ(), n.seqK())));
            }
            float[] bias = f.denseBias();
            if (bias != null) {
                DeviceTensor t = cuda.tensors().upload(bias, Shape.of(f.biasB(), f.biasH(), n.seqQ(), n.seqK()),
                        c.biasInStorageType() ? dtype : DType.F32);
                bias = cuda.tensors().download(t);  // the reference sees the stored values
                b.denseBias(t);
            }
            if (f.flashMask() != null) {
                b.flashMask(cuda.tensors().uploadInts(f.flashMask(), Shape.of(n.batch(), f.maskHeads(), n.seqK(), f.n())));
            }
            if (f.dropP() > 0) {
                b.dropout(new Dropout(f.dropP(), f.seed(), f.offset()));
            }
            AttentionOptions options = b.build();
            AttentionProblem problem = f.problem(n, cuda.tensors().download(q), cuda.tensors().download(k),
                    cuda.tensors().download(v), options.scaleFor(n.headDim()), bias);
            AttentionOutputs want = AttentionOracle.forward(problem, Precision.FP64);
            AttentionGrads wantGrads = AttentionOracle.backward(problem, doubles(cuda.tensors().download(dO)),
                    Precision.FP64);
            try (AttentionResult got = cuda.attention().forward(new AttentionRequest(q, k, v, options))) {
                CudaGpuTest.assertClose("o", want.o(), cuda.tensors().download(got.o()), dtype);
                CudaGpuTest.assertLse(want.lse(), cuda.tensors().download(got.lse()));
                AttentionOptions backward = options.toBuilder().biasTableGrad(f.table() != null).build();
                var request = new AttentionBackwardRequest(dO, q, k, v, got.o(), got.lse(), backward);
                try (AttentionGradients g = cuda.attention().backward(request)) {
                    CudaGpuTest.assertClose("dq", wantGrads.dq(), cuda.tensors().download(g.dq()), dtype);
                    CudaGpuTest.assertClose("dk", wantGrads.dk(), cuda.tensors().download(g.dk()), dtype);
                    CudaGpuTest.assertClose("dv", wantGrads.dv(), cuda.tensors().download(g.dv()), dtype);
                    if (f.table() != null) {
                        CudaGpuTest.assertClose("dTable", wantGrads.dBiasTable(), cuda.tensors().download(g.dBiasTable()), dtype);
                    }
                }
            }
        }
    }

    static Stream<Arguments> rotaryCases() {
        List<Arguments> cases = new ArrayList<>();
        for (DType dtype : KernelCatalog.DTYPES) {
            for (RotaryLayout layout : RotaryLayout.values()) {
                for (boolean scaled : new boolean[] {false, true}) {
                    for (boolean inverse : new boolean[] {false, true}) {
                        cases.add(Arguments.of(dtype, layout, scaled, inverse));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} scale={2} inverse={3}")
    @MethodSource("rotaryCases")
    void rotaryMatchesTheOracle(DType dtype, RotaryLayout layout, boolean scaled, boolean inverse) {
        int batch = 2, seq = 5, heads = 3, dim = 10, pairs = 3;
        Random rnd = new Random(9);
        float[] cos = new float[seq * pairs];
        float[] sin = new float[seq * pairs];
        float[] zeta = new float[seq * pairs];
        for (int t = 0; t < cos.length; t++) {
            cos[t] = (float) Math.cos(0.37 * t);
            sin[t] = (float) Math.sin(0.37 * t);
            zeta[t] = 0.5f + 0.01f * t;
        }
        try (Backend cuda = open()) {
            DeviceTensor x = CudaGpuTest.upload(cuda, rnd, Shape.of(batch, seq, heads, dim), dtype);
            float[] xs = cuda.tensors().download(x);
            double[] want = RotaryOracle.apply(doubles(xs), batch, seq, heads, dim, doubles(cos), doubles(sin),
                    scaled ? doubles(zeta) : null, layout, inverse);
            DeviceTensor cosT = cuda.tensors().upload(cos, Shape.of(seq, pairs), DType.F32);
            DeviceTensor sinT = cuda.tensors().upload(sin, Shape.of(seq, pairs), DType.F32);
            DeviceTensor zetaT = scaled ? cuda.tensors().upload(zeta, Shape.of(seq, pairs), DType.F32) : null;
            try (DeviceTensor y = cuda.rotary().apply(new RotaryRequest(x, cosT, sinT, zetaT, layout, inverse))) {
                CudaGpuTest.assertClose("rotary", want, cuda.tensors().download(y), dtype);
            }
        }
    }
}
