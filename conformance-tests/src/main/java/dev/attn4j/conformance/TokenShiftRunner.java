package dev.attn4j.conformance;

import dev.attn4j.oracle.ElementwiseOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.elementwise.TokenShiftRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.List;

/**
 * Runs a token shift forward ({@code y}) or backward ({@code dx}, the port's shift of {@code dy} by {@code −amount}).
 * The op only moves values, so golden and ref coincide and the pass rule's floor decides.
 */
final class TokenShiftRunner {

    private TokenShiftRunner() {
    }

    static List<PassRule.Check> run(TokenShiftConfig cfg, boolean backward, Backend backend) {
        TokenShiftConfig.Data d = cfg.data();
        DType dtype = cfg.dtype();
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor segments = d.segments() != null
                    ? scope.uploadInts(d.segments(), Shape.of(cfg.batch(), cfg.seq())) : null;
            DeviceTensor x = scope.upload(d.x(), cfg.shape(), dtype);
            TokenShiftRequest shift = new TokenShiftRequest(x, cfg.begin(), cfg.count(), cfg.amount(), segments);
            if (!backward) {
                DeviceTensor y = scope.track(backend.elementwise().shiftTokens(shift));
                double[] golden = ElementwiseOracle.shiftTokens(d.x(), cfg.batch(), cfg.seq(), cfg.cols(), cfg.begin(),
                        cfg.count(), cfg.amount(), d.segments());
                return List.of(PassRule.check("y", golden, golden, scope.download(y), dtype));
            }
            DeviceTensor dy = scope.upload(d.dy(), cfg.shape(), dtype);
            DeviceTensor dx = scope.track(backend.elementwise().shiftTokens(shift.backward(dy)));
            double[] golden = ElementwiseOracle.shiftTokensBackward(d.dy(), cfg.batch(), cfg.seq(), cfg.cols(),
                    cfg.begin(), cfg.count(), cfg.amount(), d.segments());
            return List.of(PassRule.check("dx", golden, golden, scope.download(dx), dtype));
        }
    }
}
