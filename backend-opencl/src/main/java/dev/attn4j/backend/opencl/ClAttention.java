package dev.attn4j.backend.opencl;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.attention.Dropout;
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
    private static final String SOURCE = "philox.cl+attention.cl";
    private static final int FEATURE_ALIBI = 1;
    private static final int FEATURE_TABLE = 2;
    private static final int FEATURE_DENSE_MASK = 4;
    private static final int FEATURE_DENSE_BIAS = 8;
    private static final int FEATURE_FLASH_MASK = 16;
    private static final int FEATURE_DROPOUT = 32;

    private final OpenClEngine engine;
    private final java.util.Map<Integer, Tiles> tiles = new java.util.HashMap<>();

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
            int m = 64;
            while (m > 1 && m > device.maxWorkGroupSize()) {
                m /= 2;
            }
            int n = 64;
            while (n > 1 && 4L * (2L * n * headDim + 2L * n) > device.localMemBytes()) {
                n /= 2;
            }
            return new Tiles(m, n, headDim);
        }

        String buildOptions() {
            return String.format(Locale.ROOT, "-DHEAD_DIM=%d -DBLOCK_M=%d -DBLOCK_N=%d", headDim, blockM, blockN);
        }

        /** The build options for tensors in {@code layout} (a program per layout: addresses differ, tiles do not). */
        String buildOptions(AttentionLayout layout) {
            return buildOptions() + (layout == AttentionLayout.BHSD ? " -DBHSD=1" : "");
        }

        long[] global(int rows, int groups) {
            return new long[] {(long) ceilDiv(rows, blockM) * blockM, groups};
        }

        long[] local() {
            return new long[] {blockM, 1};
        }
    }

    /**
     * The tiles for head dimension {@code d}, chosen once: the device's limits first, then halved while a
     * kernel built for them reports a smaller {@code CL_KERNEL_WORK_GROUP_SIZE} (private memory of wide heads
     * on GPUs can lower it below the device's maximum).
     */
    private Tiles tilesFor(int d) {
        return tiles.computeIfAbsent(d, key -> {
            Tiles t = Tiles.of(engine.device(), key);
            while (t.blockM() > 1) {
                long fit = Long.MAX_VALUE;
                for (String name : new String[] {"attn_fwd", "attn_bwd_dq", "attn_bwd_dkdv"}) {
                    fit = Math.min(fit, engine.kernelWorkGroupSize(engine.kernel(SOURCE, t.buildOptions(), name)));
                }
                if (fit >= t.blockM()) {
                    break;
                }
                t = new Tiles(t.blockM() / 2, t.blockN(), key);
            }
            return t;
        });
    }

    @Override
    public AttentionResult forward(AttentionRequest request) {
        AttentionShape s = request.shape();
        AttentionOptions opt = request.options();
        synchronized (engine) {
            engine.requireOpen();
            Tiles tiles = tilesFor(s.headDim());
            ClTensor o = engine.allocate(s.queryShape(opt.layout()), DType.F32);
            ClTensor lse = engine.allocate(s.lseShape(), DType.F32);
            try {
                KernelCall call = new KernelCall(engine.kernel(SOURCE, tiles.buildOptions(opt.layout()), "attn_fwd"))
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
            Tiles tiles = tilesFor(s.headDim());
            String options = tiles.buildOptions(opt.layout());
            ClTensor dq = engine.allocate(s.queryShape(opt.layout()), DType.F32);
            ClTensor dk = engine.allocate(s.keyShape(opt.layout()), DType.F32);
            ClTensor dv = engine.allocate(s.keyShape(opt.layout()), DType.F32);
            ClTensor dTable = null;
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

                if (opt.biasTableGrad()) {
                    dTable = engine.allocate(s.biasTableShape(), DType.F32);
                    int entries = s.heads() * (s.seqQ() + s.seqK() - 1);
                    KernelCall tCall = new KernelCall(engine.kernel(SOURCE, options, "attn_bwd_dtable"))
                            .mem(buf(request.q())).mem(buf(request.k())).mem(buf(request.v())).mem(buf(request.dO()))
                            .mem(buf(request.lse())).mem(delta.buffer()).mem(dTable.buffer())
                            .i(s.batch()).i(s.seqQ()).i(s.seqK()).i(s.heads()).i(s.kvHeads())
                            .f((float) opt.scaleFor(s.headDim()));
                    modifiers(tCall, s, opt);
                    tCall.run(engine.queue(), new long[] {(long) ceilDiv(entries, 64) * 64}, null);
                }
                // delta is released as this block ends: OpenCL defers freeing it until the queued kernels finish.
                return new AttentionGradients(dq, dk, dv, dTable);
            } catch (RuntimeException e) {
                dq.close();
                dk.close();
                dv.close();
                if (dTable != null) {
                    dTable.close();
                }
                throw translate(e, "attention backward");
            }
        }
    }

    /** The arguments every attention kernel ends with: sizes, scale, then the masks, biases and dropout. */
    private void problem(KernelCall call, AttentionShape s, AttentionOptions opt) {
        call.i(s.seqQ()).i(s.seqK()).i(s.heads()).i(s.kvHeads()).f((float) opt.scaleFor(s.headDim()));
        modifiers(call, s, opt);
    }

    /** {@code MOD_PARAMS} of {@code attention.cl}, in its order. */
    private void modifiers(KernelCall call, AttentionShape s, AttentionOptions opt) {
        DeviceTensor alibi = opt.alibiSlopes();
        Dropout drop = opt.dropout();
        int features = (alibi != null ? FEATURE_ALIBI : 0)
                | (opt.biasTable() != null ? FEATURE_TABLE : 0)
                | (opt.denseMask() != null ? FEATURE_DENSE_MASK : 0)
                | (opt.denseBias() != null ? FEATURE_DENSE_BIAS : 0)
                | (opt.flashMask() != null ? FEATURE_FLASH_MASK : 0)
                | (drop.enabled() ? FEATURE_DROPOUT : 0);
        call.i(opt.causal() ? 1 : 0).i(opt.windowLeft()).i(opt.windowRight()).f((float) opt.softcap())
                .i(features)
                .mem(orPlaceholder(alibi)).i(alibi != null && alibi.shape().rank() == 2 ? 1 : 0)
                .mem(orPlaceholder(opt.biasTable()));
        dense(call, opt.denseMask(), s);
        dense(call, opt.denseBias(), s);
        DeviceTensor fm = opt.flashMask();
        call.mem(orPlaceholder(fm)).i(fm != null ? fm.shape().dim(1) : 1).i(fm != null ? fm.shape().dim(3) : 1);
        // kept iff (w >>> 8) >= p·2^24, i.e. >= ceil(p·2^24): exact integer form of Dropout's u >= p.
        long threshold = (long) Math.ceil(drop.p() * 0x1p24);
        call.i((int) threshold).f((float) (1.0 / (1.0 - drop.p())))
                .i((int) drop.seed()).i((int) (drop.seed() >>> 32))
                .i((int) drop.offset()).i((int) (drop.offset() >>> 32));
    }

    /** A dense [B|1, H|1, Sq, Sk] tensor: buffer, batch stride and head stride (0 where broadcast). */
    private void dense(KernelCall call, DeviceTensor t, AttentionShape s) {
        if (t == null) {
            call.mem(engine.placeholder()).l(0).l(0);
            return;
        }
        long plane = (long) s.seqQ() * s.seqK();
        int heads = t.shape().dim(1);
        call.mem(buf(t)).l(t.shape().dim(0) == 1 ? 0 : heads * plane).l(heads == 1 ? 0 : plane);
    }

    private org.jocl.cl_mem orPlaceholder(DeviceTensor t) {
        return t != null ? buf(t) : engine.placeholder();
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
