package dev.attn4j.conformance;

import dev.attn4j.oracle.OptimizerOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.GradientClip;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.List;

/** Runs an AdamW step (checks the parameters and both moments) or a sum of squares (checks the accumulator). */
final class OptimizerRunner {

    private OptimizerRunner() {
    }

    static List<PassRule.Check> adamW(AdamWConfig cfg, Backend backend) {
        AdamWConfig.Data d = cfg.data();
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor p = scope.upload(d.params(), cfg.shape(), DType.F32);
            DeviceTensor g = scope.upload(d.grads(), cfg.shape(), DType.F32);
            DeviceTensor m = scope.upload(d.expAvg(), cfg.shape(), DType.F32);
            DeviceTensor v = scope.upload(d.expAvgSq(), cfg.shape(), DType.F32);
            GradientClip clip = cfg.maxNorm() > 0
                    ? new GradientClip(cfg.maxNorm(), scope.upload(new double[] {d.sumOfSquares()}, Shape.of(1), DType.F32))
                    : null;
            backend.optimizer().adamW(new AdamWRequest(p, g, m, v, cfg.step(), cfg.lr(), cfg.beta1(), cfg.beta2(),
                    cfg.eps(), cfg.weightDecay(), clip));
            OptimizerOracle.AdamWState golden = oracle(cfg, d, Precision.FP64);
            OptimizerOracle.AdamWState ref = oracle(cfg, d, Precision.FP32);
            return List.of(PassRule.check("params", golden.params(), ref.params(), scope.download(p), DType.F32),
                    PassRule.check("expAvg", golden.expAvg(), ref.expAvg(), scope.download(m), DType.F32),
                    PassRule.check("expAvgSq", golden.expAvgSq(), ref.expAvgSq(), scope.download(v), DType.F32));
        }
    }

    private static OptimizerOracle.AdamWState oracle(AdamWConfig cfg, AdamWConfig.Data d, Precision p) {
        OptimizerOracle.Clip clip = cfg.maxNorm() > 0 ? new OptimizerOracle.Clip(cfg.maxNorm(), d.sumOfSquares()) : null;
        return OptimizerOracle.adamW(d.params(), d.grads(), d.expAvg(), d.expAvgSq(), cfg.step(), cfg.lr(), cfg.beta1(),
                cfg.beta2(), cfg.eps(), cfg.weightDecay(), clip, p);
    }

    static List<PassRule.Check> sumOfSquares(SumOfSquaresConfig cfg, Backend backend) {
        double[] x = cfg.data();
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor xt = scope.upload(x, cfg.shape(), cfg.dtype());
            DeviceTensor acc = scope.upload(new double[] {cfg.start()}, Shape.of(1), DType.F32);
            backend.optimizer().sumOfSquares(new SumOfSquaresRequest(xt, acc));
            return List.of(PassRule.check("accumulator",
                    new double[] {OptimizerOracle.sumOfSquares(x, cfg.start(), Precision.FP64)},
                    new double[] {OptimizerOracle.sumOfSquares(x, cfg.start(), Precision.FP32)}, scope.download(acc),
                    cfg.dtype()));
        }
    }
}
