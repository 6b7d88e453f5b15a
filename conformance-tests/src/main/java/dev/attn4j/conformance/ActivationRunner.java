package dev.attn4j.conformance;

import dev.attn4j.oracle.ActivationOracle;
import dev.attn4j.oracle.GluLayouts;
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
            DeviceTensor x = cfg.split() ? null : scope.upload(d.x(), cfg.shape(), dtype);
            GluRequest glu = !cfg.glu() ? null : cfg.split()
                    ? GluRequest.split(cfg.function(), uploadHalf(scope, cfg, d, 0), uploadHalf(scope, cfg, d, 1))
                    : new GluRequest(cfg.function(), x);
            if (!backward) {
                DeviceTensor y = scope.track(cfg.glu() ? backend.activation().glu(glu)
                        : backend.activation().forward(new ActivationRequest(cfg.function(), x)));
                return List.of(PassRule.check("y", forward(cfg, d, Precision.FP64), forward(cfg, d, ref), scope.download(y),
                        dtype));
            }
            DeviceTensor dy = scope.upload(d.dy(), cfg.outputShape(), dtype);
            DeviceTensor dx = scope.track(cfg.glu()
                    ? backend.activation().gluBackward(new GluBackwardRequest(glu, dy))
                    : backend.activation().backward(new ActivationBackwardRequest(
                            new ActivationRequest(cfg.function(), x), dy)));
            if (cfg.split() && !dx.shape().equals(glu.gradientShape())) {
                throw new AssertionError("split GLU gradient shaped " + dx.shape() + ", not " + glu.gradientShape());
            }
            float[] got = scope.download(dx);
            return List.of(PassRule.check("dx", backward(cfg, d, Precision.FP64), backward(cfg, d, ref),
                    cfg.split() ? GluLayouts.unstack(got, cfg.rows(), cfg.half()) : got, dtype));
        }
    }

    /** The split form's value ({@code which = 0}) or gate ({@code 1}): that half of every row of the data. */
    private static DeviceTensor uploadHalf(DeviceScope scope, ActivationConfig cfg, ActivationConfig.Data d, int which) {
        return scope.upload(GluLayouts.half(d.x(), cfg.rows(), cfg.half(), which), cfg.outputShape(), cfg.dtype());
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
