package dev.attn4j.conformance;

import dev.attn4j.oracle.LinearOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.List;

/** Runs a matmul configuration and checks {@code C}. */
final class MatmulRunner {

    private MatmulRunner() {
    }

    static List<PassRule.Check> run(MatmulConfig cfg, Backend backend) {
        MatmulConfig.Data d = cfg.data();
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor a = scope.upload(d.a(), cfg.aShape(), cfg.dtype());
            DeviceTensor b = scope.upload(d.b(), cfg.bShape(), cfg.dtype());
            DeviceTensor c = scope.upload(d.c(), cfg.cShape(), cfg.dtype());
            backend.linear().matmul(new MatmulRequest(a, cfg.transposeA(), b, cfg.transposeB(), c, cfg.alpha(), cfg.beta()));
            double[] golden = LinearOracle.matmul(cfg.dims(), d.a(), d.b(), d.c(), cfg.alpha(), cfg.beta(), Precision.FP64);
            double[] ref = LinearOracle.matmul(cfg.dims(), d.a(), d.b(), d.c(), cfg.alpha(), cfg.beta(),
                    Precision.of(cfg.dtype()));
            return List.of(PassRule.check("c", golden, ref, scope.download(c), cfg.dtype()));
        }
    }
}
