package dev.attn4j.backend.opencl;

import dev.attn4j.ports.embedding.EmbeddingBackwardRequest;
import dev.attn4j.ports.embedding.EmbeddingPort;
import dev.attn4j.ports.embedding.EmbeddingRequest;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import static dev.attn4j.backend.opencl.ClAttention.buf;

/**
 * Embedding look-up and its scatter-add backward on OpenCL (F32), {@code ops.cl}'s {@code embed_*}. The backward has
 * one work-item per feature walking every token in order: no two work-items write one element, and each element of
 * {@code tableGrad} receives its tokens' rows in token order, so the result is deterministic without atomics or a
 * sort (the facade checked every id is in {@code [0, V)}).
 */
final class ClEmbedding implements EmbeddingPort {
    private final OpenClEngine engine;

    ClEmbedding(OpenClEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor forward(EmbeddingRequest r) {
        long n = r.outputShape().elementCount();
        synchronized (engine) {
            engine.requireOpen();
            ClTensor y = engine.allocate(r.outputShape(), DType.F32);
            try {
                engine.ops().run(engine.ops().call("embed_fwd").mem(buf(r.table())).mem(buf(r.ids())).i(r.width())
                        .mem(y.buffer()).l(n), n);
                return y;
            } catch (RuntimeException e) {
                y.close();
                throw ClAttention.translate(e, "embedding forward");
            }
        }
    }

    @Override
    public void backward(EmbeddingBackwardRequest r) {
        EmbeddingRequest fwd = r.forward();
        ClTensor grad = (ClTensor) r.tableGrad();
        ClLinear.apart("tableGrad", grad, r.dy(), fwd.table(), fwd.ids());
        int tokens = Math.toIntExact(fwd.ids().shape().elementCount());
        synchronized (engine) {
            engine.requireOpen();
            try {
                engine.ops().run(engine.ops().call("embed_bwd").mem(buf(fwd.ids())).mem(buf(r.dy())).i(tokens)
                        .i(fwd.width()).mem(grad.buffer()), fwd.width());
            } catch (RuntimeException e) {
                throw ClAttention.translate(e, "embedding backward");
            }
        }
    }
}
