package dev.attn4j.backend.opencl;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import org.jocl.CLException;

import java.util.Locale;

/**
 * Attention on OpenCL: {@code attention.cl}'s forward, then for backward its delta, dQ and dK/dV passes.
 * The Backend facade has validated every request; this class picks the tile sizes, binds the buffers
 * and launches.
 */
final class ClAttention implements AttentionPort {
    private static final String SOURCE = "attention.cl";
    private static final int FEATURE_ALIBI = 1;
    private static final int FEATURE_TABLE = 2;

    private final OpenClEngine engine;

    ClAttention(OpenClEngine engine) {
        this.engine = engine;
    }

    /**
     * Tile sizes for head dimension {@code d} on a device: {@code blockM} work-items per group (one row
     * each), {@code blockN} rows per staged tile, so that two staged {@code blockN × d} fp32 tiles fit the
     * device's local memory.
     */
    record Tiles(int blockM, int blockN, int headDim) {
        static Tiles of(ClDevice device, int headDim) {
            int m = 32;
            while (m > 1 && m > device.maxWorkGroupSize()) {
                m /= 2;
            }
            int n = 32;
            while (n > 1 && 4L * (2L * n * headDim + 2L * n) > device.localMemBytes()) {
                n /= 2;
            }
            return new Tiles(m, n, headDim);
        }

        String buildOptions() {
            return String.format(Locale.ROOT, "-DHEAD_DIM=%d -DBLOCK_M=%d -DBLOCK_N=%d", headDim, blockM, blockN);
        }

        long[] global(int rows, int groups) {
            return new long[] {(long) ceilDiv(rows, blockM) * blockM, groups};
        }

        long[] local() {
            return new long[] {blockM, 1};
        }
    }

    @Override
    public AttentionResult forward(AttentionRequest request) {
        AttentionShape s = request.shape();
        AttentionOptions opt = request.options();
        synchronized (engine) {
            engine.requireOpen();
            Tiles tiles = Tiles.of(engine.device(), s.headDim());
            ClTensor o = engine.allocate(s.queryShape(), DType.F32);
            ClTensor lse = engine.allocate(s.lseShape(), DType.F32);
            try {
                KernelCall call = new KernelCall(engine.kernel(SOURCE, tiles.buildOptions(), "attn_fwd"))
                        .mem(buf(request.q())).mem(buf(request.k())).mem(buf(request.v()))
                        .mem(o.buffer()).mem(lse.buffer());
                problem(call, s, opt);
                call.run(engine.queue(), tiles.global(s.seqQ(), s.batch() * s.heads()), tiles.local());
                return new AttentionResult(o, lse);
            } catch (RuntimeException e) {
                o.close();
                lse.close();
                throw translate(e, "attention forward");
            }
        }
    }

    @Override
    public AttentionGradients backward(AttentionBackwardRequest request) {
        AttentionShape s = request.shape();
        AttentionOptions opt = request.options();
        synchronized (engine) {
            engine.requireOpen();
            Tiles tiles = Tiles.of(engine.device(), s.headDim());
            String options = tiles.buildOptions();
            ClTensor dq = engine.allocate(s.queryShape(), DType.F32);
            ClTensor dk = engine.allocate(s.keyShape(), DType.F32);
            ClTensor dv = engine.allocate(s.keyShape(), DType.F32);
            try (ClTensor delta = engine.allocate(s.lseShape(), DType.F32)) {
                int rows = s.batch() * s.seqQ() * s.heads();
                new KernelCall(engine.kernel(SOURCE, options, "attn_bwd_delta"))
                        .mem(buf(request.dO())).mem(buf(request.o())).mem(delta.buffer()).i(s.seqQ()).i(s.heads())
                        .run(engine.queue(), new long[] {rows}, null);

                KernelCall dqCall = new KernelCall(engine.kernel(SOURCE, options, "attn_bwd_dq"))
                        .mem(buf(request.q())).mem(buf(request.k())).mem(buf(request.v())).mem(buf(request.dO()))
                        .mem(buf(request.lse())).mem(delta.buffer()).mem(dq.buffer());
                problem(dqCall, s, opt);
                dqCall.run(engine.queue(), tiles.global(s.seqQ(), s.batch() * s.heads()), tiles.local());

                KernelCall kvCall = new KernelCall(engine.kernel(SOURCE, options, "attn_bwd_dkdv"))
                        .mem(buf(request.q())).mem(buf(request.k())).mem(buf(request.v())).mem(buf(request.dO()))
                        .mem(buf(request.lse())).mem(delta.buffer()).mem(dk.buffer()).mem(dv.buffer());
                problem(kvCall, s, opt);
                kvCall.run(engine.queue(), tiles.global(s.seqK(), s.batch() * s.kvHeads()), tiles.local());
                // delta is released as this block ends: OpenCL defers freeing it until the queued kernels finish.
                return new AttentionGradients(dq, dk, dv, null);
            } catch (RuntimeException e) {
                dq.close();
                dk.close();
                dv.close();
                throw translate(e, "attention backward");
            }
        }
    }

    /** The arguments every attention kernel ends with: sizes, scale, then the masks and biases. */
    private void problem(KernelCall call, AttentionShape s, AttentionOptions opt) {
        int features = (opt.alibiSlopes() != null ? FEATURE_ALIBI : 0) | (opt.biasTable() != null ? FEATURE_TABLE : 0);
        DeviceTensor alibi = opt.alibiSlopes();
        call.i(s.seqQ()).i(s.seqK()).i(s.heads()).i(s.kvHeads()).f((float) opt.scaleFor(s.headDim()))
                .i(opt.causal() ? 1 : 0).i(opt.windowLeft()).i(opt.windowRight()).f((float) opt.softcap())
                .i(features)
                .mem(alibi != null ? buf(alibi) : engine.placeholder())
                .i(alibi != null && alibi.shape().rank() == 2 ? 1 : 0)
                .mem(opt.biasTable() != null ? buf(opt.biasTable()) : engine.placeholder());
    }

    static org.jocl.cl_mem buf(DeviceTensor t) {
        return ((ClTensor) t).buffer();
    }

    static RuntimeException translate(RuntimeException e, String doing) {
        return e instanceof CLException cl ? OpenClEngine.deviceError(cl, doing) : e;
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

}
