package dev.attn4j.conformance;

import dev.attn4j.oracle.EmbeddingOracle;
import dev.attn4j.oracle.PassRule;
import dev.attn4j.oracle.Precision;
import dev.attn4j.ports.Backend;
import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.List;

/** Runs an embedding look-up ({@code y}) or its backward (the table's gradient accumulator). */
final class EmbeddingRunner {

    private EmbeddingRunner() {
    }

    static List<PassRule.Check> run(EmbeddingConfig cfg, boolean backward, Backend backend) {
        EmbeddingConfig.Data d = cfg.data();
        DType dtype = cfg.dtype();
        Shape tableShape = Shape.of(cfg.vocab(), cfg.width());
        try (DeviceScope scope = new DeviceScope(backend)) {
            DeviceTensor table = scope.upload(d.table(), tableShape, dtype);
            DeviceTensor ids = scope.uploadInts(d.ids(), cfg.idsShape());
            EmbeddingRequest fwd = new EmbeddingRequest(table, ids);
            if (!backward) {
                DeviceTensor y = scope.track(backend.embedding().forward(fwd));
                double[] golden = EmbeddingOracle.forward(d.table(), cfg.width(), d.ids());
                return List.of(PassRule.check("y", golden, golden, scope.download(y), dtype));
            }
            DeviceTensor dy = scope.upload(d.dy(), fwd.outputShape(), dtype);
            DeviceTensor dTable = scope.upload(d.tableGrad0(), tableShape, dtype);
            backend.embedding().backward(new EmbeddingBackwardRequest(fwd, dy, dTable));
            return List.of(PassRule.check("dTable",
                    EmbeddingOracle.backward(d.ids(), d.dy(), cfg.width(), d.tableGrad0(), Precision.FP64),
                    EmbeddingOracle.backward(d.ids(), d.dy(), cfg.width(), d.tableGrad0(), Precision.of(dtype)),
                    scope.download(dTable), dtype));
        }
    }
}
