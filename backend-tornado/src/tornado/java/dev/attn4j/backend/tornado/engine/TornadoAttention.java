package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.tensor.DeviceTensor;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import java.util.List;

import static dev.attn4j.backend.tornado.engine.AttentionKernels.*;

/**
 * Attention forward and backward on TornadoVM with every mask, bias and dropout feature (see
 * {@link AttentionKernels}). Plans are keyed by buffer capacities only: a call copies its tensors into the
 * plan's buffers and describes itself in the {@code meta}/{@code fmeta} arrays, so shapes that round to the
 * same capacities reuse one compiled plan.
 */
final class TornadoAttention implements AttentionPort {
    /** Forward buffers. */
    private static final int F_Q = 0, F_K = 1, F_V = 2, F_O = 3, F_LSE = 4, F_META = 5, F_FMETA = 6, F_SLOPES = 7,
            F_TABLE = 8, F_DMASK = 9, F_DBIAS = 10, F_FMASK = 11;
    /** Backward buffers. */
    private static final int B_Q = 0, B_K = 1, B_V = 2, B_DO = 3, B_O = 4, B_LSE = 5, B_DELTA = 6, B_DQ = 7,
            B_DK = 8, B_DV = 9, B_META = 10, B_FMETA = 11, B_SLOPES = 12, B_TABLE = 13, B_DMASK = 14, B_DBIAS = 15,
            B_FMASK = 16, B_DTABLE = 17;

    private final TornadoEngine engine;
    private final TornadoTensors tensors;
    private final Plans plans;

    /** Which plan: direction, whether the table gradient runs, and the buffers' capacities. */
    private record Key(boolean backward, boolean tableGrad, List<Integer> capacities) {
        int capacity(int buffer) {
            return capacities.get(buffer);
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
        AttentionOptions o = r.options();
        long qn = s.queryShape().elementCount();
        long kn = s.keyShape().elementCount();
        long rows = s.lseShape().elementCount();
        synchronized (engine) {
            Key key = new Key(false, false, capacities(qn, kn, kn, qn, rows, META_SIZE, FMETA_SIZE,
                    (long) s.batch() * s.heads(), size(o.biasTable()), size(o.denseMask()), size(o.denseBias()),
                    size(o.flashMask())));
            Plans.Plan p = plans.get(key, this::forwardGraph);
            Arrays.copy(f(r.q()), p.f(F_Q));
            Arrays.copy(f(r.k()), p.f(F_K));
            Arrays.copy(f(r.v()), p.f(F_V));
            describe(s, o, p.ints(F_META), p.f(F_FMETA));
            copyFeatures(s, o, p.f(F_SLOPES), p.f(F_TABLE), p.bytes(F_DMASK), p.f(F_DBIAS), p.ints(F_FMASK));
            int tiles = (s.seqQ() + TILE_ROWS - 1) / TILE_ROWS;
            p.run(TILE_ROWS, s.batch() * s.heads() * tiles * TILE_ROWS);
            DeviceTensor out = tensors.wrap(Arrays.copyOf(p.f(F_O), (int) qn), s.queryShape());
            DeviceTensor lse = tensors.wrap(Arrays.copyOf(p.f(F_LSE), (int) rows), s.lseShape());
            return new AttentionResult(out, lse);
        }
    }

    @Override
    public AttentionGradients backward(AttentionBackwardRequest r) {
        AttentionShape s = r.shape();
        AttentionOptions o = r.options();
        long qn = s.queryShape().elementCount();
        long kn = s.keyShape().elementCount();
        long rows = s.lseShape().elementCount();
        boolean tableGrad = o.biasTableGrad() && o.biasTable() != null;
        synchronized (engine) {
            Key key = new Key(true, tableGrad, capacities(qn, kn, kn, qn, qn, rows, rows, qn, kn, kn, META_SIZE,
                    FMETA_SIZE, (long) s.batch() * s.heads(), size(o.biasTable()), size(o.denseMask()),
                    size(o.denseBias()), size(o.flashMask()), tableGrad ? size(o.biasTable()) : 1));
            Plans.Plan p = plans.get(key, this::backwardGraph);
            Arrays.copy(f(r.q()), p.f(B_Q));
            Arrays.copy(f(r.k()), p.f(B_K));
            Arrays.copy(f(r.v()), p.f(B_V));
            Arrays.copy(f(r.dO()), p.f(B_DO));
            Arrays.copy(f(r.o()), p.f(B_O));
            Arrays.copy(f(r.lse()), p.f(B_LSE));
            describe(s, o, p.ints(B_META), p.f(B_FMETA));
            copyFeatures(s, o, p.f(B_SLOPES), p.f(B_TABLE), p.bytes(B_DMASK), p.f(B_DBIAS), p.ints(B_FMASK));
            int queryTiles = (s.seqQ() + TILE_ROWS - 1) / TILE_ROWS;
            int keyTiles = (s.seqK() + TILE_ROWS - 1) / TILE_ROWS;
            p.run(TILE_ROWS, s.batch() * s.heads() * queryTiles * TILE_ROWS,
                    s.batch() * s.kvHeads() * keyTiles * TILE_ROWS);
            DeviceTensor dq = tensors.wrap(Arrays.copyOf(p.f(B_DQ), (int) qn), s.queryShape());
            DeviceTensor dk = tensors.wrap(Arrays.copyOf(p.f(B_DK), (int) kn), s.keyShape());
            DeviceTensor dv = tensors.wrap(Arrays.copyOf(p.f(B_DV), (int) kn), s.keyShape());
            DeviceTensor dTable = tableGrad
                    ? tensors.wrap(Arrays.copyOf(p.f(B_DTABLE), size(o.biasTable())), o.biasTable().shape())
                    : null;
            return new AttentionGradients(dq, dk, dv, dTable);
        }
    }

    private Plans.TaskGraphAndBuffers forwardGraph(Key key) {
        TornadoNativeArray[] b = buffers(key, F_META, F_DMASK, F_FMASK);
        FloatArray q = (FloatArray) b[F_Q], k = (FloatArray) b[F_K], v = (FloatArray) b[F_V];
        IntArray meta = (IntArray) b[F_META];
        FloatArray fmeta = (FloatArray) b[F_FMETA], slopes = (FloatArray) b[F_SLOPES], table = (FloatArray) b[F_TABLE];
        ByteArray dmask = (ByteArray) b[F_DMASK];
        FloatArray dbias = (FloatArray) b[F_DBIAS];
        IntArray fmask = (IntArray) b[F_FMASK];
        String name = plans.graphName("attnf");
        TaskGraph g = new TaskGraph(name)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, q, k, v, meta, fmeta, slopes, table, dmask, dbias, fmask)
                .task("forward", AttentionKernels::forwardTiled, new KernelContext(), q, k, v, (FloatArray) b[F_O],
                        (FloatArray) b[F_LSE], meta, fmeta, slopes, table, dmask, dbias, fmask)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, b[F_O], b[F_LSE]);
        return new Plans.TaskGraphAndBuffers(g, b, List.of(name + ".forward"));
    }

    private Plans.TaskGraphAndBuffers backwardGraph(Key key) {
        TornadoNativeArray[] b = buffers(key, B_META, B_DMASK, B_FMASK);
        FloatArray q = (FloatArray) b[B_Q], k = (FloatArray) b[B_K], v = (FloatArray) b[B_V];
        FloatArray dO = (FloatArray) b[B_DO], o = (FloatArray) b[B_O], lse = (FloatArray) b[B_LSE];
        FloatArray delta = (FloatArray) b[B_DELTA];
        IntArray meta = (IntArray) b[B_META];
        FloatArray fmeta = (FloatArray) b[B_FMETA], slopes = (FloatArray) b[B_SLOPES], table = (FloatArray) b[B_TABLE];
        ByteArray dmask = (ByteArray) b[B_DMASK];
        FloatArray dbias = (FloatArray) b[B_DBIAS];
        IntArray fmask = (IntArray) b[B_FMASK];
        String name = plans.graphName("attnb");
        TaskGraph g = new TaskGraph(name)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, q, k, v, dO, o, lse, meta, fmeta, slopes, table,
                        dmask, dbias, fmask)
                .task("delta", AttentionKernels::rowDot, dO, o, delta, meta, key.capacity(B_LSE))
                .task("dq", AttentionKernels::backwardQTiled, new KernelContext(), q, k, v, dO, lse, delta,
                        (FloatArray) b[B_DQ], meta, fmeta, slopes, table, dmask, dbias, fmask)
                .task("dkv", AttentionKernels::backwardKVTiled, new KernelContext(), q, k, v, dO, lse, delta,
                        (FloatArray) b[B_DK], (FloatArray) b[B_DV], meta, fmeta, slopes, table, dmask, dbias, fmask);
        if (key.tableGrad()) {
            g.task("dtable", AttentionKernels::tableGrad, q, k, v, dO, lse, delta, (FloatArray) b[B_DTABLE], meta,
                    fmeta, slopes, table, dmask, dbias, fmask, key.capacity(B_DTABLE))
                    .transferToHost(DataTransferMode.EVERY_EXECUTION, b[B_DTABLE]);
        }
        g.transferToHost(DataTransferMode.EVERY_EXECUTION, b[B_DQ], b[B_DK], b[B_DV]);
        return new Plans.TaskGraphAndBuffers(g, b, List.of(name + ".dq", name + ".dkv"));
    }

    /** Zeroed buffers of the key's capacities: ints for meta and FlashMask, bytes for the dense mask, else floats. */
    private static TornadoNativeArray[] buffers(Key key, int metaSlot, int byteSlot, int fmaskSlot) {
        TornadoNativeArray[] b = new TornadoNativeArray[key.capacities().size()];
        for (int i = 0; i < b.length; i++) {
            int n = key.capacity(i);
            b[i] = i == metaSlot || i == fmaskSlot ? Plans.ints(n) : i == byteSlot ? Plans.bytes(n) : Plans.floats(n);
        }
        return b;
    }

    /** Sizes and flags of this call into {@code meta}/{@code fmeta} (slots of {@link AttentionKernels}). */
    static void describe(AttentionShape s, AttentionOptions o, IntArray meta, FloatArray fmeta) {
        meta.set(SQ, s.seqQ());
        meta.set(SK, s.seqK());
        meta.set(HEADS, s.heads());
        meta.set(KV_HEADS, s.kvHeads());
        meta.set(D, s.headDim());
        meta.set(BATCH, s.batch());
        meta.set(ROWS, Math.toIntExact(s.lseShape().elementCount()));
        meta.set(CAUSAL, o.causal() ? 1 : 0);
        // Row i sees keys i + reachLeft <= j <= i + reachRight as far as causal and the window go.
        int off = s.offset();
        meta.set(REACH_LEFT, o.windowLeft() >= 0 ? off - o.windowLeft() : -(s.seqQ() + s.seqK()));
        int reachRight = o.causal() ? off : s.seqK();
        if (o.windowRight() >= 0) {
            reachRight = Math.min(reachRight, off + o.windowRight());
        }
        meta.set(REACH_RIGHT, reachRight);
        meta.set(TABLE, o.biasTable() != null ? 1 : 0);
        denseStrides(o.denseMask(), s, meta, DMASK);
        denseStrides(o.denseBias(), s, meta, DBIAS);
        DeviceTensor fm = o.flashMask();
        meta.set(FMASK, fm != null ? 1 : 0);
        meta.set(FMASK_HEADS, fm != null ? fm.shape().dim(1) : 1);
        meta.set(FMASK_N, fm != null ? fm.shape().dim(3) : 1);
        Dropout drop = o.dropout();
        meta.set(DROP, drop.enabled() ? 1 : 0);
        // Kept iff (w >>> 8) >= p·2^24, i.e. >= ceil(p·2^24): the exact integer form of Dropout's u >= p.
        meta.set(DROP_THRESHOLD, (int) Math.ceil(drop.p() * 0x1p24));
        meta.set(SEED_LO, (int) drop.seed());
        meta.set(SEED_HI, (int) (drop.seed() >>> 32));
        meta.set(OFF_LO, (int) drop.offset());
        meta.set(OFF_HI, (int) (drop.offset() >>> 32));
        fmeta.set(SCALE, (float) o.scaleFor(s.headDim()));
        fmeta.set(SOFTCAP, (float) o.softcap());
        fmeta.set(KEEP_SCALE, (float) (1.0 / (1.0 - drop.p())));
    }

    /** A dense {@code [B|1, H|1, Sq, Sk]} tensor's flag, batch stride and head stride (0 where broadcast). */
    private static void denseStrides(DeviceTensor t, AttentionShape s, IntArray meta, int slot) {
        meta.set(slot, t != null ? 1 : 0);
        int plane = s.seqQ() * s.seqK();
        int heads = t != null ? t.shape().dim(1) : 1;
        meta.set(slot + 1, t == null || t.shape().dim(0) == 1 ? 0 : heads * plane);
        meta.set(slot + 2, heads == 1 ? 0 : plane);
    }

    /** ALiBi slopes as {@code [B, H]} (zeros without ALiBi), and the mask/bias tensors that are present. */
    static void copyFeatures(AttentionShape s, AttentionOptions o, FloatArray slopes, FloatArray table,
                                     ByteArray dmask, FloatArray dbias, IntArray fmask) {
        slopes.init(0.0f);
        if (o.alibiSlopes() != null) {
            FloatArray given = f(o.alibiSlopes());
            int perBatch = o.alibiSlopes().shape().rank() == 2 ? s.heads() : 0;
            for (int b = 0; b < s.batch(); b++) {
                for (int h = 0; h < s.heads(); h++) {
                    slopes.set(b * s.heads() + h, given.get(b * perBatch + h));
                }
            }
        }
        if (o.biasTable() != null) {
            Arrays.copy(f(o.biasTable()), table);
        }
        if (o.denseMask() != null) {
            Arrays.copy(((TornadoTensor) o.denseMask()).storage(ByteArray.class), dmask);
        }
        if (o.denseBias() != null) {
            Arrays.copy(f(o.denseBias()), dbias);
        }
        if (o.flashMask() != null) {
            Arrays.copy(((TornadoTensor) o.flashMask()).storage(IntArray.class), fmask);
        }
    }

    private static List<Integer> capacities(long... sizes) {
        Integer[] caps = new Integer[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            caps[i] = Plans.capacity(sizes[i]);
        }
        return List.of(caps);
    }

    private static int size(DeviceTensor t) {
        return t == null ? 1 : Math.toIntExact(t.shape().elementCount());
    }

    private static FloatArray f(DeviceTensor t) {
        return ((TornadoTensor) t).storage(FloatArray.class);
    }
}
