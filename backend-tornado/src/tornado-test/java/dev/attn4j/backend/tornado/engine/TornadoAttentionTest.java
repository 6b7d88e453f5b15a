package dev.attn4j.backend.tornado.engine;

import dev.attn4j.oracle.AttentionDims;
import dev.attn4j.oracle.AttentionGrads;
import dev.attn4j.oracle.AttentionOracle;
import dev.attn4j.oracle.AttentionOutputs;
import dev.attn4j.oracle.AttentionProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.attn4j.oracle.HostArrays.doubles;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs only in the {@code tornado} profile: attention forward and backward against the float64 oracle. */
class TornadoAttentionTest {
    private static final double TOL = 2e-5;
    private static TornadoEngine engine;

    @BeforeAll
    static void open() {
        engine = TornadoEngine.open(BackendOptions.none());
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @ParameterizedTest(name = "B={0} Sq={1} Sk={2} H={3} Hkv={4} D={5} causal={6} window=({7},{8}) softcap={9} alibi={10}")
    @CsvSource({"2,5,5,2,2,16,false,-1,-1,0,0", "1,7,7,4,2,32,true,-1,-1,0,0", "2,3,9,4,1,64,true,-1,-1,0,0",
            "1,9,4,2,2,8,true,-1,-1,0,0", "1,4,6,3,3,128,false,-1,-1,0,0", "1,3,3,2,1,256,true,-1,-1,0,0",
            "1,8,8,2,1,16,false,2,1,0,0", "2,6,9,2,2,8,true,3,-1,0,0", "1,9,5,2,2,8,false,-1,0,0,0", "1,7,7,2,2,8,false,0,2,0,0",
            "1,6,6,2,1,16,false,-1,-1,1.5,0", "2,5,7,2,2,8,true,2,-1,0.8,0",
            "1,6,6,4,2,16,true,-1,-1,0,1", "2,5,8,2,1,8,false,3,2,1.5,2"})
    void forwardAndBackwardMatchTheOracle(int batch, int sq, int sk, int heads, int kvHeads, int d, boolean causal,
                                                   int windowLeft, int windowRight, double softcap,
                                                   int alibi) {
        Random rnd = new Random(31L * sq + sk + d);
        float[] q = randoms(rnd, batch * sq * heads * d);
        float[] k = randoms(rnd, batch * sk * kvHeads * d);
        float[] v = randoms(rnd, batch * sk * kvHeads * d);
        DeviceTensor tq = engine.tensors().upload(q, Shape.of(batch, sq, heads, d), DType.F32);
        DeviceTensor tk = engine.tensors().upload(k, Shape.of(batch, sk, kvHeads, d), DType.F32);
        DeviceTensor tv = engine.tensors().upload(v, Shape.of(batch, sk, kvHeads, d), DType.F32);
        // alibi: 0 none, 1 slopes [H], 2 slopes [B, H].
        float[] slopes = new float[batch * heads];
        for (int i = 0; i < slopes.length; i++) {
            slopes[i] = alibi == 0 ? 0f : (float) Math.pow(0.5, 1 + (alibi == 1 ? i % heads : i));
        }
        DeviceTensor tSlopes = alibi == 0 ? null : alibi == 1
                ? engine.tensors().upload(java.util.Arrays.copyOf(slopes, heads), Shape.of(heads), DType.F32)
                : engine.tensors().upload(slopes, Shape.of(batch, heads), DType.F32);
        AttentionOptions options = AttentionOptions.builder().causal(causal).window(windowLeft, windowRight)
                .softcap(softcap).alibiSlopes(tSlopes).build();
        double scale = 1.0 / Math.sqrt(d);

        float[] dO = randoms(rnd, q.length);
        AttentionProblem problem = new AttentionProblem(new AttentionDims(batch, sq, sk, heads, kvHeads, d), doubles(q),
                doubles(k), doubles(v), scale, causal, windowLeft, windowRight, softcap,
                alibi == 0 ? null : alibi == 1 ? doubles(java.util.Arrays.copyOf(slopes, heads)) : doubles(slopes),
                null, null, null, null, Dropout.NONE);
        AttentionOutputs want = AttentionOracle.forward(problem, Precision.FP64);
        AttentionGrads grads = AttentionOracle.backward(problem, doubles(dO), Precision.FP64);
        double[] o = want.o();
        double[] lse = want.lse();

        // Twice: the second call reuses the plan built by the first.
        for (int run = 0; run < 2; run++) {
            try (AttentionResult r = engine.attention().forward(new AttentionRequest(tq, tk, tv, options))) {
                assertClose("o", o, engine.tensors().download(r.o()), TOL);
                assertClose("lse", lse, engine.tensors().download(r.lse()), TOL);
            }
        }

        double[] dq = grads.dq();
        double[] dk = grads.dk();
        double[] dv = grads.dv();
        DeviceTensor tdO = engine.tensors().upload(dO, Shape.of(batch, sq, heads, d), DType.F32);
        float[][] first = null;
        try (AttentionResult r = engine.attention().forward(new AttentionRequest(tq, tk, tv, options))) {
            for (int run = 0; run < 2; run++) {
                try (AttentionGradients g = engine.attention().backward(
                        new AttentionBackwardRequest(tdO, tq, tk, tv, r.o(), r.lse(), options))) {
                    float[][] got = {engine.tensors().download(g.dq()), engine.tensors().download(g.dk()),
                            engine.tensors().download(g.dv())};
                    assertClose("dq", dq, got[0], TOL);
                    assertClose("dk", dk, got[1], TOL);
                    assertClose("dv", dv, got[2], TOL);
                    if (first == null) {
                        first = got;
                    } else {
                        for (int a = 0; a < 3; a++) {
                            assertArrayEquals(first[a], got[a], "backward is bit-identical run to run");
                        }
                    }
                }
            }
        }
    }

    private static float[] randoms(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    private static void assertClose(String what, double[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, what + " length");
        double worst = 0;
        int at = 0;
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == Double.NEGATIVE_INFINITY) {
                assertEquals(Float.NEGATIVE_INFINITY, actual[i], what + "[" + i + "] of a fully masked row");
                continue;
            }
            assertFalse(Float.isNaN(actual[i]) || Float.isInfinite(actual[i]), what + "[" + i + "] = " + actual[i]);
            double err = Math.abs(expected[i] - actual[i]) / Math.max(1.0, Math.abs(expected[i]));
            if (err > worst) {
                worst = err;
                at = i;
            }
        }
        StringBuilder bad = new StringBuilder();
        for (int i = 0; i < expected.length && bad.length() < 400; i++) {
            if (Math.abs(expected[i] - actual[i]) > 1e-3) {
                bad.append(i).append(' ');
            }
        }
        assertTrue(worst <= tol, "bad " + bad + " " + what + ": worst relative error " + worst + " > " + tol + " at [" + at + "]: expected "
                + expected[at] + ", got " + actual[at]);
    }
}
