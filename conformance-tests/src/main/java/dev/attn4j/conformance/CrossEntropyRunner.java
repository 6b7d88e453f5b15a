package dev.attn4j.conformance;

import dev.attn4j.oracle.CrossEntropyOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a fused linear cross-entropy and checks every output asked for: the loss sum and the count (always), the
 * per-row losses, {@code dHidden}, and the weight and bias accumulators.
 */
final class CrossEntropyRunner {

    private CrossEntropyRunner() {
    }

    static List<PassRule.Check> run(CrossEntropyConfig cfg, Backend backend) {
        CrossEntropyConfig.Data data = cfg.data();
        DType dtype = cfg.dtype();
        int d = cfg.d();
        int v = cfg.vocab();
        float scale = cfg.resolvedGradScale();
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor hidden = scope.upload(data.hidden(), Draw.append(cfg.lead(), d), dtype);
            DeviceTensor weight = scope.upload(data.weight(), Shape.of(v, d), dtype);
            DeviceTensor bias = cfg.bias() ? scope.upload(data.bias(), Shape.of(v), dtype) : null;
            DeviceTensor targets = scope.uploadInts(data.targets(), cfg.lead());
            DeviceTensor dW = cfg.weightGrad() ? scope.upload(data.dW0(), Shape.of(v, d), dtype) : null;
            DeviceTensor db = cfg.biasGrad() ? scope.upload(data.db0(), Shape.of(v), dtype) : null;
            CrossEntropyResult result = scope.track(backend.loss().linearCrossEntropy(new CrossEntropyRequest(hidden,
                    weight, bias, targets, cfg.ignoreIndex(), scale, cfg.inputGrad(), dW, db, cfg.perToken())));
            CrossEntropyOracle.Result golden = oracle(cfg, data, scale, Precision.FP64);
            CrossEntropyOracle.Result ref = oracle(cfg, data, scale, Precision.of(dtype));
            List<PassRule.Check> checks = new ArrayList<>();
            checks.add(PassRule.check("lossSum", new double[] {golden.lossSum()}, new double[] {ref.lossSum()},
                    scope.download(DeviceScope.requirePresent(result.lossSum(), "lossSum")), dtype));
            checks.add(PassRule.check("count", new double[] {golden.count()}, new double[] {ref.count()},
                    scope.download(DeviceScope.requirePresent(result.count(), "count")), dtype));
            if (cfg.perToken()) {
                checks.add(PassRule.check("perToken", golden.perToken(), ref.perToken(),
                        scope.download(DeviceScope.requirePresent(result.perToken(), "perToken")), dtype));
            } else if (result.perToken() != null) {
                throw new IllegalStateException("per-token losses returned although not asked for");
            }
            if (cfg.inputGrad()) {
                checks.add(PassRule.check("dHidden", golden.dHidden(), ref.dHidden(),
                        scope.download(DeviceScope.requirePresent(result.dHidden(), "dHidden")), dtype));
            } else if (result.dHidden() != null) {
                throw new IllegalStateException("dHidden returned although inputGrad was false");
            }
            if (dW != null) {
                checks.add(PassRule.check("dW", golden.dWeight(), ref.dWeight(), scope.download(dW), dtype));
            }
            if (db != null) {
                checks.add(PassRule.check("db", golden.dBias(), ref.dBias(), scope.download(db), dtype));
            }
            return checks;
        }
    }

    private static CrossEntropyOracle.Result oracle(CrossEntropyConfig cfg, CrossEntropyConfig.Data data, float scale,
                                                    Precision p) {
        return CrossEntropyOracle.run(data.hidden(), cfg.rows(), cfg.d(), data.weight(), cfg.vocab(), data.bias(),
                data.targets(), cfg.ignoreIndex(), scale, cfg.inputGrad(), cfg.weightGrad() ? data.dW0() : null,
                cfg.biasGrad() ? data.db0() : null, p);
    }
}
