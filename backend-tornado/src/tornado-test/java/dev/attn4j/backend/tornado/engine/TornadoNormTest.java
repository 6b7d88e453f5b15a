package dev.attn4j.backend.tornado.engine;

import dev.attn4j.backend.tornado.TornadoBackendProviderAccess;
import dev.attn4j.oracle.NormGrads;
import dev.attn4j.oracle.NormOracle;
import dev.attn4j.oracle.NormOutputs;
import dev.attn4j.oracle.NormProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.oracle.junit.EachBackend;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.attention.AttentionCapabilities;
import dev.attn4j.ports.attention.AttentionFeature;
import dev.attn4j.ports.norm.NormCapabilities;
import dev.attn4j.ports.norm.NormFeature;
import dev.attn4j.ports.rotary.RotaryCapabilities;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.spi.Availability;
import dev.attn4j.ports.spi.BackendOptions;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.attn4j.oracle.HostArrays.doubles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs only in the {@code tornado} profile, under TornadoVM's argfile: the norm kernels against the float64
 * oracle ({@link NormOracle}), which shares no code with them.
 */
class TornadoNormTest {
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

    /** Through {@link EachBackend}: the provider found by ServiceLoader, probed, opened and closed leak-free. */
    @EachBackend("tornado")
    void providerSeesTheRuntimeAndListsDevices(Backend backend) {
        Availability a = TornadoBackendProviderAccess.probe();
        assertTrue(a.available(), a.reason());
        assertFalse(a.devices().isEmpty());
        assertFalse(backend.devices().isEmpty());
        AttentionCapabilities attention = backend.capabilities().port(AttentionCapabilities.class).orElseThrow();
        for (AttentionFeature f : AttentionFeature.values()) {
            // BHSD is not declared until the kernels index it (a stride change)
            assertEquals(f != AttentionFeature.BHSD_LAYOUT, attention.supports(f), f.name());
        }
        NormCapabilities norms = backend.capabilities().port(NormCapabilities.class).orElseThrow();
        for (NormFeature f : NormFeature.values()) {
            assertTrue(norms.supports(f), f.name());
        }
        assertTrue(backend.provides(RotaryCapabilities.class));
    }

    @ParameterizedTest(name = "layer={0} beta={1} residual={2} rows={3} c={4}")
    @CsvSource({"true,true,false,7,33", "true,false,false,4,64", "false,false,false,5,48",
            "true,true,true,6,40", "false,false,true,3,17"})
    void forwardAndBackwardMatchTheOracle(boolean layer, boolean beta, boolean residual, int rows, int c) {
        Random rnd = new Random(rows * 31L + c);
        float[] x = randoms(rnd, rows * c, 2.0f, 0.5f);
        float[] res = residual ? randoms(rnd, rows * c, 1.0f, 0f) : null;
        float[] gamma = randoms(rnd, c, 0.5f, 1.0f);
        float[] bta = beta ? randoms(rnd, c, 0.5f, 0f) : null;
        float[] dy = randoms(rnd, rows * c, 1.0f, 0f);
        float[] dSum = residual ? randoms(rnd, rows * c, 1.0f, 0f) : null;
        double alpha = residual ? 1.7 : 1.0;
        double eps = 1e-5;
        Shape shape = Shape.of(rows, c);

        DeviceTensor tx = up(x, shape);
        DeviceTensor tg = up(gamma, Shape.of(c));
        DeviceTensor tb = beta ? up(bta, Shape.of(c)) : null;
        NormRequest req = layer ? NormRequest.layerNorm(tx, tg, tb, eps) : NormRequest.rmsNorm(tx, tg, eps);
        if (residual) {
            req = req.withResidual(up(res, shape), alpha);
        }
        NormProblem problem = new NormProblem(layer ? NormKind.LAYER_NORM : NormKind.RMS_NORM, rows, c, doubles(x),
                doubles(res), alpha, doubles(gamma), doubles(bta), eps);
        NormOutputs ref = NormOracle.forward(problem, Precision.FP64);
        NormGrads grads = NormOracle.backward(problem, doubles(dy), doubles(dSum), Precision.FP64);
        NormResult out = engine.normalization().forward(req);
        assertClose("y", ref.y(), down(out.y()));
        assertClose("rstd", ref.rstd(), down(out.rstd()));
        if (layer) {
            assertClose("mean", ref.mean(), down(out.mean()));
        } else {
            assertNull(out.mean());
        }
        if (residual) {
            assertClose("sum", ref.sum(), down(out.sum()));
        }

        // Twice, so the reused plan is exercised too.
        for (int run = 0; run < 2; run++) {
            NormGradients g = engine.normalization().backward(new NormBackwardRequest(req, out, up(dy, shape),
                    residual ? up(dSum, shape) : null));
            assertClose("dInput", grads.dInput(), down(g.dInput()));
            assertClose("dGamma", grads.dGamma(), down(g.dGamma()));
            if (beta) {
                assertClose("dBeta", grads.dBeta(), down(g.dBeta()));
            }
            if (residual) {
                assertClose("dResidual", grads.dResidual(), down(g.dResidual()));
            }
        }
    }

    private static float[] randoms(Random rnd, int n, float spread, float shift) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = shift + spread * (float) rnd.nextGaussian();
        }
        return a;
    }

    private static DeviceTensor up(float[] data, Shape shape) {
        return engine.tensors().upload(data, shape, DType.F32);
    }

    private static float[] down(DeviceTensor t) {
        return engine.tensors().download(t);
    }

    private static void assertClose(String what, double[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + " length");
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]) / Math.max(1.0, Math.abs(expected[i]));
            assertFalse(Double.isNaN(actual[i]), what + "[" + i + "] is NaN");
            worst = Math.max(worst, err);
        }
        assertTrue(worst <= TOL, what + ": worst relative error " + worst + " > " + TOL);
    }
}
