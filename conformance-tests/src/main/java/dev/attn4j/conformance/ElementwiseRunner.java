package dev.attn4j.conformance;

import dev.attn4j.oracle.ElementwiseOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.elementwise.AddRequest;
import dev.attn4j.ports.elementwise.AxpyRequest;
import dev.attn4j.ports.elementwise.ScaleRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.List;

/** Runs {@code add}, {@code axpy} or {@code scale} and checks the result (the written tensor for the in-place ops). */
final class ElementwiseRunner {

    private ElementwiseRunner() {
    }

    static List<PassRule.Check> run(ElementwiseConfig cfg, Op op, Backend backend) {
        ElementwiseConfig.Data d = cfg.data();
        DType dtype = cfg.dtype();
        Precision ref = Precision.of(dtype);
        double alpha = cfg.alpha();
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor a = scope.upload(d.a(), cfg.shape(), dtype);
            DeviceTensor b = scope.upload(d.b(), cfg.shape(), dtype);
            return switch (op) {
                case ADD -> {
                    DeviceTensor y = scope.track(backend.elementwise().add(new AddRequest(a, b, cfg.alpha())));
                    yield List.of(PassRule.check("y", ElementwiseOracle.add(d.a(), d.b(), alpha, Precision.FP64),
                            ElementwiseOracle.add(d.a(), d.b(), alpha, ref), scope.download(y), dtype));
                }
                case AXPY -> {
                    backend.elementwise().axpy(new AxpyRequest(cfg.alpha(), a, b));
                    yield List.of(PassRule.check("y", ElementwiseOracle.axpy(alpha, d.a(), d.b(), Precision.FP64),
                            ElementwiseOracle.axpy(alpha, d.a(), d.b(), ref), scope.download(b), dtype));
                }
                case SCALE -> {
                    backend.elementwise().scale(new ScaleRequest(a, cfg.alpha()));
                    yield List.of(PassRule.check("x", ElementwiseOracle.scale(d.a(), alpha, Precision.FP64),
                            ElementwiseOracle.scale(d.a(), alpha, ref), scope.download(a), dtype));
                }
                default -> throw new IllegalArgumentException("not an element-wise op: " + op);
            };
        }
    }
}
