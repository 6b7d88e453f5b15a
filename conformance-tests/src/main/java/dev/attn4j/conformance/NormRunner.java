package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.NormGrads;
import dev.attn4j.oracle.NormOracle;
import dev.attn4j.oracle.NormOutputs;
import dev.attn4j.oracle.NormProblem;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/** Runs one normalisation case on a backend and checks every output against the oracle. */
final class NormRunner {

    private NormRunner() {
    }

    static List<PassRule.Check> run(NormConfig cfg, boolean backward, Backend backend) {
        NormConfig.Data data = cfg.data();
        NormProblem p = data.problem();
        DType dtype = cfg.dtype();
        Precision refPrecision = Precision.of(dtype);
        Shape shape = Shape.of(cfg.inputDims());
        Shape row = Shape.of(cfg.cols());
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor input = scope.upload(p.input(), shape, dtype);
            DeviceTensor gamma = scope.upload(p.gamma(), row, DType.F32);
            DeviceTensor beta = p.beta() != null ? scope.upload(p.beta(), row, DType.F32) : null;
            NormRequest request = new NormRequest(p.kind(), input, null, 1.0, gamma, beta, p.eps());
            if (p.residual() != null) {
                request = request.withResidual(scope.upload(p.residual(), shape, dtype), p.alpha());
            }
            NormResult fwd = scope.track(backend.normalization().forward(request));
            List<PassRule.Check> checks = new ArrayList<>();
            if (!backward) {
                NormOutputs golden = NormOracle.forward(p, Precision.FP64);
                NormOutputs ref = NormOracle.forward(p, refPrecision);
                checks.add(PassRule.check("y", golden.y(), ref.y(), scope.download(fwd.y()), dtype));
                if (p.kind() == NormKind.LAYER_NORM) {
                    checks.add(PassRule.check("mean", golden.mean(), ref.mean(), scope.download(fwd.mean()), dtype));
                }
                checks.add(PassRule.check("rstd", golden.rstd(), ref.rstd(), scope.download(fwd.rstd()), dtype));
                if (p.residual() != null) {
                    checks.add(PassRule.check("sum", golden.sum(), ref.sum(), scope.download(fwd.sum()), dtype));
                }
                return checks;
            }
            DeviceTensor dy = scope.upload(data.dy(), shape, dtype);
            DeviceTensor dSum = data.dSum() != null ? scope.upload(data.dSum(), shape, dtype) : null;
            NormGradients g = scope.track(backend.normalization().backward(new NormBackwardRequest(request, fwd, dy, dSum)));
            NormGrads golden = NormOracle.backward(p, data.dy(), data.dSum(), Precision.FP64);
            NormGrads ref = NormOracle.backward(p, data.dy(), data.dSum(), refPrecision);
            checks.add(PassRule.check("dInput", golden.dInput(), ref.dInput(), scope.download(g.dInput()), dtype));
            if (p.residual() != null) {
                requirePresent(g.dResidual(), "dResidual");
                checks.add(PassRule.check("dResidual", golden.dResidual(), ref.dResidual(),
                        scope.download(g.dResidual()), dtype));
            }
            checks.add(PassRule.check("dGamma", golden.dGamma(), ref.dGamma(), scope.download(g.dGamma()), dtype));
            if (p.beta() != null) {
                requirePresent(g.dBeta(), "dBeta");
                checks.add(PassRule.check("dBeta", golden.dBeta(), ref.dBeta(), scope.download(g.dBeta()), dtype));
            }
            return checks;
        }
    }

    private static void requirePresent(DeviceTensor t, String name) {
        if (t == null) {
            throw new IllegalStateException("backward returned no " + name);
        }
    }
}
