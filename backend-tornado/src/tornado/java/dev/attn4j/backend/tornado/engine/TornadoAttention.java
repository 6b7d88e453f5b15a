package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.Capability;
import dev.attn4j.ports.UnsupportedCapabilityException;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.tensor.DeviceTensor;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Attention forward (causal, GQA/MQA) on TornadoVM; see {@link AttentionKernels}. */
final class TornadoAttention implements AttentionPort {
    private final TornadoEngine engine;
    private final TornadoTensors tensors;
    private final Plans plans;

    /** Which plan: the shape and the scalars a task graph captures when built. */
    private record Key(AttentionShape shape, float scale, boolean causal) {
    }

    TornadoAttention(TornadoEngine engine, TornadoTensors tensors, Plans plans) {
        this.engine = engine;
        this.tensors = tensors;
        this.plans = plans;
    }

    @Override
    public AttentionResult forward(AttentionRequest r) {
        AttentionShape s = r.shape();
        float scale = (float) r.options().scaleFor(s.headDim());
        synchronized (engine) {
            Plans.Plan p = plans.get(new Key(s, scale, r.options().causal()), this::forwardGraph);
            FloatArray[] b = p.buffers;
            Arrays.copy(f(r.q()), b[0]);
            Arrays.copy(f(r.k()), b[1]);
            Arrays.copy(f(r.v()), b[2]);
            p.run();
            DeviceTensor o = tensors.wrap(Arrays.copyOf(b[3]), s.queryShape());
            DeviceTensor lse = tensors.wrap(Arrays.copyOf(b[4]), s.lseShape());
            return new AttentionResult(o, lse);
        }
    }

    @Override
    public AttentionGradients backward(AttentionBackwardRequest request) {
        throw new UnsupportedCapabilityException(TornadoEngine.NAME, Capability.ATTENTION_BACKWARD.name());
    }

    /** Buffers: 0 q, 1 k, 2 v, 3 o, 4 lse. */
    private Plans.TaskGraphAndBuffers forwardGraph(Key key) {
        AttentionShape s = key.shape();
        int qn = s.batch() * s.seqQ() * s.heads() * s.headDim();
        int kn = s.batch() * s.seqK() * s.kvHeads() * s.headDim();
        int rows = s.batch() * s.heads() * s.seqQ();
        FloatArray[] b = Plans.buffers(qn, kn, kn, qn, rows);
        TaskGraph g = new TaskGraph(plans.graphName("attnf"))
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, b[0], b[1], b[2])
                .task("forward", AttentionKernels::forward, b[0], b[1], b[2], b[3], b[4], rows, s.seqQ(), s.seqK(),
                        s.heads(), s.kvHeads(), s.headDim(), key.scale(), key.causal() ? s.seqK() - s.seqQ() : s.seqK())
                .transferToHost(DataTransferMode.EVERY_EXECUTION, b[3], b[4]);
        return new Plans.TaskGraphAndBuffers(g, b);
    }

    private static FloatArray f(DeviceTensor t) {
        return ((TornadoTensor) t).storage(FloatArray.class);
    }
}
