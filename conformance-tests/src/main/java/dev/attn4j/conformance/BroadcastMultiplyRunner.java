package dev.attn4j.conformance;

import dev.attn4j.oracle.ElementwiseOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.elementwise.BroadcastMultiplyBackwardRequest;
import dev.attn4j.ports.elementwise.BroadcastMultiplyRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/** Runs a broadcast multiply forward ({@code y}) or backward ({@code dx}, {@code dv}). */
final class BroadcastMultiplyRunner {

    private BroadcastMultiplyRunner() {
    }

    static List<PassRule.Check> run(BroadcastMultiplyConfig cfg, boolean backward, Backend backend) {
        BroadcastMultiplyConfig.Data d = cfg.data();
        DType dtype = cfg.dtype();
        Precision ref = Precision.of(dtype);
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor x = scope.upload(d.x(), cfg.shape(), dtype);
            DeviceTensor v = scope.upload(d.v(), Shape.of(cfg.vectorLength()), dtype);
            BroadcastMultiplyRequest fwd = new BroadcastMultiplyRequest(x, v, cfg.axis());
            if (!backward) {
                DeviceTensor y = scope.track(backend.elementwise().multiply(fwd));
                return List.of(PassRule.check("y",
                        ElementwiseOracle.multiply(d.x(), cfg.cols(), d.v(), cfg.axis(), Precision.FP64),
                        ElementwiseOracle.multiply(d.x(), cfg.cols(), d.v(), cfg.axis(), ref), scope.download(y), dtype));
            }
            DeviceTensor dy = scope.upload(d.dy(), cfg.shape(), dtype);
            DeviceTensor dv = cfg.vectorGrad() ? scope.upload(d.dv0(), Shape.of(cfg.vectorLength()), dtype) : null;
            DeviceTensor dx = backend.elementwise().multiplyBackward(
                    new BroadcastMultiplyBackwardRequest(fwd, dy, cfg.inputGrad(), dv));
            if (dx != null) {
                scope.track(dx);
            }
            var golden = grads(cfg, d, Precision.FP64);
            var naive = grads(cfg, d, ref);
            List<PassRule.Check> checks = new ArrayList<>();
            if (cfg.inputGrad()) {
                DeviceScope.requirePresent(dx, "dx");
                checks.add(PassRule.check("dx", golden.dx(), naive.dx(), scope.download(dx), dtype));
            } else if (dx != null) {
                throw new IllegalStateException("backward returned a dx although inputGrad was false");
            }
            if (dv != null) {
                checks.add(PassRule.check("dv", golden.vectorGrad(), naive.vectorGrad(), scope.download(dv), dtype));
            }
            return checks;
        }
    }

    private static ElementwiseOracle.MultiplyGrads grads(BroadcastMultiplyConfig cfg, BroadcastMultiplyConfig.Data d,
                                                        Precision p) {
        return ElementwiseOracle.multiplyBackward(d.x(), cfg.cols(), d.v(), cfg.axis(), d.dy(), cfg.inputGrad(),
                cfg.vectorGrad() ? d.dv0() : null, p);
    }
}
