package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.tensor.DeviceTensor;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Attention forward and backward (causal, sliding window, softcap, ALiBi, GQA/MQA) on TornadoVM; see {@link AttentionKernels}. */
final class TornadoAttention implements AttentionPort {
    private final TornadoEngine engine;
    private final TornadoTensors tensors;
    private final Plans plans;

    /** Which plan: the shape and the scalars a task graph captures when built. */
    private record Key(boolean backward, AttentionShape shape, float scale, float softcap, boolean causal,
                       int windowLeft, int windowRight) {
        Key(boolean backward, AttentionShape shape, float scale, AttentionOptions o) {
            this(backward, shape, scale, (float) o.softcap(), o.causal(), o.windowLeft(), o.windowRight());
        }

        /** Query row i sees keys j >= i + reachLeft (a left window), else every key to its left. */
        int reachLeft() {
            return windowLeft >= 0 ? shape.offset() - windowLeft : -(shape.seqQ() + shape.seqK());
        }

        /** Query row i sees keys j <= i + reachRight: causal and a right window bound it, else no limit. */
        int reachRight() {
            int r = shape.seqK();
            if (causal) {
                r = shape.offset();
            }
            if (windowRight >= 0) {
                r = Math.min(r, shape.offset() + windowRight);
            }
            return r;
        }
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
            Plans.Plan p = plans.get(new Key(false, s, scale, r.options()), this::forwardGraph);
            FloatArray[] b = p.buffers;
            Arrays.copy(f(r.q()), b[0]);
            Arrays.copy(f(r.k()), b[1]);
            Arrays.copy(f(r.v()), b[2]);
            fillSlopes(r.options(), s, b[5]);
            p.run();
            DeviceTensor o = tensors.wrap(Arrays.copyOf(b[3]), s.queryShape());
            DeviceTensor lse = tensors.wrap(Arrays.copyOf(b[4]), s.lseShape());
            return new AttentionResult(o, lse);
        }
    }

    @Override
    public AttentionGradients backward(AttentionBackwardRequest r) {
        AttentionShape s = r.shape();
        float scale = (float) r.options().scaleFor(s.headDim());
        synchronized (engine) {
            Plans.Plan p = plans.get(new Key(true, s, scale, r.options()), this::backwardGraph);
            FloatArray[] b = p.buffers;
            Arrays.copy(f(r.q()), b[0]);
            Arrays.copy(f(r.k()), b[1]);
            Arrays.copy(f(r.v()), b[2]);
            Arrays.copy(f(r.dO()), b[3]);
            Arrays.copy(f(r.o()), b[4]);
            Arrays.copy(f(r.lse()), b[5]);
            fillSlopes(r.options(), s, b[10]);
            p.run();
            DeviceTensor dq = tensors.wrap(Arrays.copyOf(b[7]), s.queryShape());
            DeviceTensor dk = tensors.wrap(Arrays.copyOf(b[8]), s.keyShape());
            DeviceTensor dv = tensors.wrap(Arrays.copyOf(b[9]), s.keyShape());
            return new AttentionGradients(dq, dk, dv, null);
        }
    }

    /** Buffers: 0 q, 1 k, 2 v, 3 dO, 4 o, 5 lse, 6 delta, 7 dq, 8 dk, 9 dv, 10 ALiBi slopes [B, H]. */
    private Plans.TaskGraphAndBuffers backwardGraph(Key key) {
        AttentionShape s = key.shape();
        int qn = s.batch() * s.seqQ() * s.heads() * s.headDim();
        int kn = s.batch() * s.seqK() * s.kvHeads() * s.headDim();
        int rows = s.batch() * s.heads() * s.seqQ();
        int kvRows = s.batch() * s.kvHeads() * s.seqK();
        FloatArray[] b = Plans.buffers(qn, kn, kn, qn, qn, rows, rows, qn, kn, kn, s.batch() * s.heads());
        TaskGraph g = new TaskGraph(plans.graphName("attnb"))
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, b[0], b[1], b[2], b[3], b[4], b[5], b[10])
                .task("delta", AttentionKernels::rowDot, b[3], b[4], b[6], rows, s.seqQ(), s.heads(), s.headDim())
                .task("dq", AttentionKernels::backwardQ, b[0], b[1], b[2], b[10], b[3], b[5], b[6], b[7], rows, s.seqQ(),
                        s.seqK(), s.heads(), s.kvHeads(), s.headDim(), key.scale(), key.softcap(), key.reachLeft(), key.reachRight())
                .task("dkv", AttentionKernels::backwardKV, b[0], b[1], b[2], b[10], b[3], b[5], b[6], b[8], b[9], kvRows,
                        s.seqQ(), s.seqK(), s.heads(), s.kvHeads(), s.headDim(), key.scale(), key.softcap(), key.reachLeft(), key.reachRight())
                .transferToHost(DataTransferMode.EVERY_EXECUTION, b[7], b[8], b[9]);
        return new Plans.TaskGraphAndBuffers(g, b);
    }

    /** Buffers: 0 q, 1 k, 2 v, 3 o, 4 lse, 5 ALiBi slopes [B, H]. */
    private Plans.TaskGraphAndBuffers forwardGraph(Key key) {
        AttentionShape s = key.shape();
        int qn = s.batch() * s.seqQ() * s.heads() * s.headDim();
        int kn = s.batch() * s.seqK() * s.kvHeads() * s.headDim();
        int rows = s.batch() * s.heads() * s.seqQ();
        FloatArray[] b = Plans.buffers(qn, kn, kn, qn, rows, s.batch() * s.heads());
        TaskGraph g = new TaskGraph(plans.graphName("attnf"))
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, b[0], b[1], b[2], b[5])
                .task("forward", AttentionKernels::forward, b[0], b[1], b[2], b[5], b[3], b[4], rows, s.seqQ(), s.seqK(),
                        s.heads(), s.kvHeads(), s.headDim(), key.scale(), key.softcap(), key.reachLeft(), key.reachRight())
                .transferToHost(DataTransferMode.EVERY_EXECUTION, b[3], b[4]);
        return new Plans.TaskGraphAndBuffers(g, b);
    }

    /** ALiBi slopes as {@code [B, H]} (a {@code [H]} tensor repeated per batch), or zeros (no bias). */
    private static void fillSlopes(AttentionOptions o, AttentionShape s, FloatArray into) {
        if (o.alibiSlopes() == null) {
            into.init(0.0f);
            return;
        }
        FloatArray slopes = f(o.alibiSlopes());
        int perBatch = slopes.getSize() == s.heads() ? 0 : s.heads();
        for (int b = 0; b < s.batch(); b++) {
            for (int h = 0; h < s.heads(); h++) {
                into.set(b * s.heads() + h, slopes.get(b * perBatch + h));
            }
        }
    }

    private static FloatArray f(DeviceTensor t) {
        return ((TornadoTensor) t).storage(FloatArray.class);
    }
}
