package dev.attn4j.conformance;

import dev.attn4j.oracle.LinearOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/** Runs a linear configuration's forward or backward and checks {@code y}, or {@code dx}, {@code dW}, {@code db}. */
final class LinearRunner {

    private LinearRunner() {
    }

    static List<PassRule.Check> run(LinearConfig cfg, boolean backward, Backend backend) {
        LinearConfig.Data d = cfg.data();
        DType dtype = cfg.dtype();
        Precision ref = Precision.of(dtype);
        int rows = cfg.rows();
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor x = scope.upload(d.x(), Draw.append(cfg.lead(), cfg.in()), dtype);
            DeviceTensor w = scope.upload(d.w(), cfg.weightShape(), dtype);
            DeviceTensor b = d.b() != null ? scope.upload(d.b(), Shape.of(cfg.out()), dtype) : null;
            LinearRequest fwd = new LinearRequest(x, w, b, cfg.layout());
            if (!backward) {
                DeviceTensor y = scope.track(backend.linear().forward(fwd));
                return List.of(PassRule.check("y", golden(cfg, d, Precision.FP64), golden(cfg, d, ref), scope.download(y),
                        dtype));
            }
            DeviceTensor dy = scope.upload(d.dy(), Draw.append(cfg.lead(), cfg.out()), dtype);
            DeviceTensor dW = cfg.weightGrad() ? scope.upload(d.dW0(), cfg.weightShape(), dtype) : null;
            DeviceTensor db = cfg.biasGrad() ? scope.upload(d.db0(), Shape.of(cfg.out()), dtype) : null;
            DeviceTensor dx = backend.linear().backward(new LinearBackwardRequest(fwd, dy, cfg.inputGrad(), dW, db));
            if (dx != null) {
                scope.track(dx);
            }
            LinearOracle.Grads golden = grads(cfg, d, rows, Precision.FP64);
            LinearOracle.Grads naive = grads(cfg, d, rows, ref);
            List<PassRule.Check> checks = new ArrayList<>();
            if (cfg.inputGrad()) {
                DeviceScope.requirePresent(dx, "dx");
                checks.add(PassRule.check("dx", golden.dx(), naive.dx(), scope.download(dx), dtype));
            } else if (dx != null) {
                throw new IllegalStateException("backward returned a dx although inputGrad was false");
            }
            if (dW != null) {
                checks.add(PassRule.check("dW", golden.dWeight(), naive.dWeight(), scope.download(dW), dtype));
            }
            if (db != null) {
                checks.add(PassRule.check("db", golden.dBias(), naive.dBias(), scope.download(db), dtype));
            }
            return checks;
        }
    }

    private static double[] golden(LinearConfig cfg, LinearConfig.Data d, Precision p) {
        return LinearOracle.forward(d.x(), cfg.rows(), cfg.in(), d.w(), cfg.layout(), cfg.out(), d.b(), p);
    }

    private static LinearOracle.Grads grads(LinearConfig cfg, LinearConfig.Data d, int rows, Precision p) {
        return LinearOracle.backward(d.x(), rows, cfg.in(), d.w(), cfg.layout(), cfg.out(), d.dy(), cfg.inputGrad(),
                cfg.weightGrad() ? d.dW0() : null, cfg.biasGrad() ? d.db0() : null, p);
    }
}
