package dev.attn4j.backend.opencl;

import dev.attn4j.oracle.NormGrads;
import dev.attn4j.oracle.NormOracle;
import dev.attn4j.oracle.NormOutputs;
import dev.attn4j.oracle.NormProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Objects;
import java.util.Random;
import java.util.stream.Stream;

import static dev.attn4j.backend.opencl.OpenClTesting.assertClose;
import static dev.attn4j.backend.opencl.OpenClTesting.f32;
import static dev.attn4j.backend.opencl.OpenClTesting.random;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** LayerNorm / RMSNorm, plain, fused residual and DeepNorm, forward and backward, against the float64 oracle ({@link NormOracle}). */
class NormKernelsTest {
    private static Backend backend;

    @BeforeAll
    static void open() {
        backend = OpenClTesting.openBackend();
    }

    @AfterAll
    static void close() {
        if (backend != null) backend.close();
    }

    static Stream<NormSpec> cases() {
        return Stream.of(
                new NormSpec(true, 1, 1, 1e-5, 1, false, false),
                new NormSpec(true, 14, 1, 1e-6, 1, false, false),     // var = 0: rstd = 1/sqrt(eps) exactly
                new NormSpec(true, 7, 33, 1e-5, 1, false, true),
                new NormSpec(true, 5, 300, 1e-6, 1, false, false),
                new NormSpec(false, 9, 64, 1e-6, 1, false, false),
                new NormSpec(false, 3, 129, 1e-5, 1, true, false),    // fused residual
                new NormSpec(true, 6, 40, 1e-5, 1, true, true),
                new NormSpec(true, 4, 257, 1e-5, 2.378, true, true)); // DeepNorm: LN(alpha x + f)
    }

    @ParameterizedTest
    @MethodSource("cases")
    void forwardAndBackwardMatchTheOracle(NormSpec n) {
        Random rnd = new Random(Objects.hash(n));
        int len = n.rows() * n.cols();
        double[] x = random(rnd, len, 2);
        for (int i = 0; i < len; i++) x[i] = (float) (x[i] + 0.5);   // a non-zero mean
        double[] res = n.residual() ? random(rnd, len, 1) : null;
        double[] gamma = random(rnd, n.cols(), 1.5);
        double[] beta = n.beta() ? random(rnd, n.cols(), 1) : null;
        double[] dy = random(rnd, len, 1);
        double[] dsum = n.residual() ? random(rnd, len, 1) : null;
        NormProblem problem = n.problem(x, res, gamma, beta);
        NormOutputs gold = NormOracle.forward(problem, Precision.FP64);
        NormOutputs ref = NormOracle.forward(problem, Precision.FP32);
        NormGrads gGold = NormOracle.backward(problem, dy, dsum, Precision.FP64);
        NormGrads gRef = NormOracle.backward(problem, dy, dsum, Precision.FP32);
        Shape shape = Shape.of(n.rows(), n.cols());
        try (DeviceTensor xt = up(x, shape); DeviceTensor rt = up(res, shape);
             DeviceTensor gt = up(gamma, Shape.of(n.cols())); DeviceTensor bt = up(beta, Shape.of(n.cols()));
             DeviceTensor dyt = up(dy, shape); DeviceTensor dst = up(dsum, shape)) {
            NormRequest req = new NormRequest(n.kind(), xt, rt, n.alpha(), gt, bt, n.eps());
            try (NormResult f = backend.normalization().forward(req);
                 NormGradients g = backend.normalization().backward(new NormBackwardRequest(req, f, dyt, dst))) {
                assertClose("y", gold.y(), ref.y(), backend.tensors().download(f.y()));
                if (n.layerNorm()) {
                    assertClose("mean", gold.mean(), ref.mean(), backend.tensors().download(f.mean()));
                } else {
                    assertNull(f.mean(), "RMSNorm saves no mean");
                }
                assertClose("rstd", gold.rstd(), ref.rstd(), backend.tensors().download(f.rstd()));
                if (n.residual()) {
                    assertClose("sum", gold.sum(), ref.sum(), backend.tensors().download(f.sum()));
                    assertClose("dResidual", gGold.dResidual(), gRef.dResidual(), backend.tensors().download(g.dResidual()));
                } else {
                    assertNull(f.sum());
                    assertNull(g.dResidual());
                }
                assertClose("dInput", gGold.dInput(), gRef.dInput(), backend.tensors().download(g.dInput()));
                assertClose("dGamma", gGold.dGamma(), gRef.dGamma(), backend.tensors().download(g.dGamma()));
                if (n.beta()) {
                    assertNotNull(g.dBeta());
                    assertClose("dBeta", gGold.dBeta(), gRef.dBeta(), backend.tensors().download(g.dBeta()));
                } else {
                    assertNull(g.dBeta());
                }
            }
        }
    }

    private static DeviceTensor up(double[] data, Shape shape) {
        return data == null ? null : backend.tensors().upload(f32(data), shape, DType.F32);
    }
}
