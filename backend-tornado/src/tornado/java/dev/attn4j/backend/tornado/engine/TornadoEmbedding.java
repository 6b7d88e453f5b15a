package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingPort;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.tensor.DeviceTensor;

import static dev.attn4j.backend.tornado.engine.ModelKernels.*;
import static dev.attn4j.backend.tornado.engine.TornadoTensor.at;

/**
 * Embedding look-up and its scatter-add backward on TornadoVM (F32 table, I32 ids in the int heap),
 * {@link ModelKernels#embedForward} / {@link ModelKernels#embedBackward}. The backward has one work item per
 * feature walking every token in order: no two items write one element, and each element of {@code tableGrad}
 * receives its tokens' rows in token order, so the result is deterministic without atomics or a sort (the facade
 * checked every id is in {@code [0, V)}).
 */
final class TornadoEmbedding implements EmbeddingPort {
    private final TornadoEngine engine;
    private final TornadoTensors tensors;

    TornadoEmbedding(TornadoEngine engine, TornadoTensors tensors) {
        this.engine = engine;
        this.tensors = tensors;
    }

    @Override
    public DeviceTensor forward(EmbeddingRequest r) {
        long n = r.outputShape().elementCount();
        synchronized (engine) {
            Made made = new Made();
            try {
                TornadoTensor y = made.add(tensors.allocate(r.outputShape()));
                new HeapCall(engine.heap(), DeviceHeap.Op.EMBED_FORWARD).set(N, Math.toIntExact(n))
                        .set(A_AT, at(r.table())).set(B_AT, at(r.ids())).set(COLS, Math.max(1, r.width()))
                        .set(C_AT, y.offset()).run(64, n);
                return y;
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            }
        }
    }

    @Override
    public void backward(EmbeddingBackwardRequest r) {
        EmbeddingRequest fwd = r.forward();
        TornadoTensor.apart("tableGrad", r.tableGrad(), r.dy(), fwd.table());
        int tokens = Math.toIntExact(fwd.ids().shape().elementCount());
        synchronized (engine) {
            new HeapCall(engine.heap(), DeviceHeap.Op.EMBED_BACKWARD).set(A_AT, at(r.dy())).set(B_AT, at(fwd.ids()))
                    .set(ROWS, tokens).set(COLS, fwd.width()).set(C_AT, at(r.tableGrad())).run(64, fwd.width());
        }
    }
}
