package dev.attn4j.conformance;

import dev.attn4j.oracle.ActivationOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.activation.ActivationBackwardRequest;
import dev.attn4j.ports.activation.ActivationRequest;
import dev.attn4j.ports.activation.GluBackwardRequest;
import dev.attn4j.ports.activation.GluRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.List;

/** Runs an activation or GLU configuration forward or backward and checks {@code y} or {@code dx}. */
final class ActivationRunner {

    private ActivationRunner() {
    }

    static List<PassRule.Check> run(ActivationConfig cfg, boolean backward, Backend backend) {
        ActivationConfig.Data d = cfg.data();
        DType dtype = cfg.dtype();
        Precision ref = Precision.of(dtype);
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor x = scope.upload(d.x(), cfg.shape(), dtype);
            if (!backward) {
                DeviceTensor y = scope.track(cfg.glu() ? backend.activation().glu(new GluRequest(cfg.function(), x))
                        : backend.activation().forward(new ActivationRequest(cfg.function(), x)));
                return List.of(PassRule.check("y", forward(cfg, d, Precision.FP64), forward(cfg, d, ref), scope.download(y),
                        dtype));
            }
            DeviceTensor dy = scope.upload(d.dy(), cfg.outputShape(), dtype);
            DeviceTensor dx = scope.track(cfg.glu()
                    ? backend.activation().gluBackward(new GluBackwardRequest(new GluRequest(cfg.function(), x), dy))
                    : backend.activation().backward(new ActivationBackwardRequest(
                            new ActivationRequest(cfg.function(), x), dy)));
            return List.of(PassRule.check("dx", backward(cfg, d, Precision.FP64), backward(cfg, d, ref),
                    scope.download(dx), dtype));
        }
    }

    private static double[] forward(ActivationConfig cfg, ActivationConfig.Data d, Precision p) {
        return cfg.glu() ? ActivationOracle.glu(cfg.function(), d.x(), cfg.rows(), cfg.half(), p)
                : ActivationOracle.forward(cfg.function(), d.x(), p);
    }

    private static double[] backward(ActivationConfig cfg, ActivationConfig.Data d, Precision p) {
        return cfg.glu() ? ActivationOracle.gluBackward(cfg.function(), d.x(), d.dy(), cfg.rows(), cfg.half(), p)
                : ActivationOracle.backward(cfg.function(), d.x(), d.dy(), p);
    }
}
