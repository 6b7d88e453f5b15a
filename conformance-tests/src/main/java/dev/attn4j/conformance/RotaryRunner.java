package dev.attn4j.conformance;

import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.oracle.RotaryOracle;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.rotary.RotaryRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.List;

/** Runs one rotary case on a backend and checks its output against the oracle. */
final class RotaryRunner {

    private RotaryRunner() {
    }

    static List<PassRule.Check> run(RotaryConfig cfg, boolean backward, Backend backend) {
        RotaryConfig.Data data = cfg.data();
        DType dtype = cfg.dtype();
        double[] input = backward ? data.dy() : data.x();
        try (DeviceScope scope = new DeviceScope(backend)) {
            Shape table = Shape.of(cfg.seq(), cfg.pairs());
            DeviceTensor x = scope.upload(input, Shape.of(cfg.batch(), cfg.seq(), cfg.heads(), cfg.headDim()), dtype);
            DeviceTensor cos = scope.upload(data.cos(), table, DType.F32);
            DeviceTensor sin = scope.upload(data.sin(), table, DType.F32);
            DeviceTensor scale = data.scale() != null ? scope.upload(data.scale(), table, DType.F32) : null;
            DeviceTensor y = scope.track(backend.rotary().apply(new RotaryRequest(x, cos, sin, scale, cfg.layout(),
                    backward)));
            double[] golden = oracle(cfg, data, input, backward, Precision.FP64);
            double[] ref = oracle(cfg, data, input, backward, Precision.of(dtype));
            return List.of(PassRule.check(backward ? "dx" : "y", golden, ref, scope.download(y), dtype));
        }
    }

    private static double[] oracle(RotaryConfig cfg, RotaryConfig.Data data, double[] input, boolean inverse,
                                   Precision precision) {
        return RotaryOracle.apply(input, cfg.batch(), cfg.seq(), cfg.heads(), cfg.headDim(), data.cos(), data.sin(),
                data.scale(), cfg.layout(), inverse, precision);
    }
}
