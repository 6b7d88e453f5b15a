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
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import static dev.attn4j.backend.tornado.engine.TornadoTensor.at;
import static dev.attn4j.backend.tornado.engine.AttentionKernels.*;

/**
 * Attention forward and backward on TornadoVM with every mask, bias and dropout feature (see
 * {@link AttentionKernels}). Inputs and outputs stay in the device heaps: a call allocates its outputs there,
 * describes itself (sizes, flags, where each tensor starts) in the kernels' {@code meta}/{@code fmeta} arrays
 * and runs the kernels' graphs; nothing is copied to or from the host.
 */
final class TornadoAttention implements AttentionPort {
    private final TornadoEngine engine;
    private final TornadoTensors tensors;

    TornadoAttention(TornadoEngine engine, TornadoTensors tensors) {
        this.engine = engine;
        this.tensors = tensors;
    }

    @Override
    public AttentionResult forward(AttentionRequest r) {
        AttentionShape s = r.shape();
        AttentionOptions o = r.options();
        synchronized (engine) {
            Made made = new Made();
            try {
                TornadoTensor out = made.add(tensors.allocate(s.queryShape()));
                TornadoTensor lse = made.add(tensors.allocate(s.lseShape()));
                run(r, s, o, out, lse);
                return new AttentionResult(out, lse);
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            }
        }
    }

    /** Describes the forward in its graph's meta arrays and runs it into {@code out} and {@code lse}. */
    private void run(AttentionRequest r, AttentionShape s, AttentionOptions o, TornadoTensor out, TornadoTensor lse) {
        DeviceHeap heap = engine.heap();
        IntArray meta = heap.meta(DeviceHeap.Op.ATTENTION_FORWARD);
        describe(s, o, meta, heap.fmeta(DeviceHeap.Op.ATTENTION_FORWARD));
        meta.set(Q_AT, at(r.q()));
        meta.set(K_AT, at(r.k()));
        meta.set(V_AT, at(r.v()));
        meta.set(O_AT, out.offset());
        meta.set(LSE_AT, lse.offset());
        int tiles = (s.seqQ() + TILE_ROWS - 1) / TILE_ROWS;
        heap.run(DeviceHeap.Op.ATTENTION_FORWARD, TILE_ROWS, s.batch() * s.heads() * tiles * TILE_ROWS);
    }

    @Override
    public AttentionGradients backward(AttentionBackwardRequest r) {
        AttentionShape s = r.shape();
        AttentionOptions o = r.options();
        boolean tableGrad = o.biasTableGrad() && o.biasTable() != null;
        synchronized (engine) {
            Made made = new Made();
            TornadoTensor delta = null;
            try {
                TornadoTensor dq = made.add(tensors.allocate(s.queryShape()));
                TornadoTensor dk = made.add(tensors.allocate(s.keyShape()));
                TornadoTensor dv = made.add(tensors.allocate(s.keyShape()));
                TornadoTensor dTable = tableGrad ? made.add(tensors.allocate(o.biasTable().shape())) : null;
                delta = tensors.allocate(s.lseShape());
                DeviceHeap heap = engine.heap();
                DeviceHeap.Op[] ops = {DeviceHeap.Op.ATTENTION_DELTA, DeviceHeap.Op.ATTENTION_DQ,
                        DeviceHeap.Op.ATTENTION_DKV, DeviceHeap.Op.ATTENTION_DTABLE};
                for (DeviceHeap.Op op : ops) {
                    IntArray meta = heap.meta(op);
                    describe(s, o, meta, heap.fmeta(op));
                    meta.set(Q_AT, at(r.q()));
                    meta.set(K_AT, at(r.k()));
                    meta.set(V_AT, at(r.v()));
                    meta.set(O_AT, at(r.o()));
                    meta.set(LSE_AT, at(r.lse()));
                    meta.set(DO_AT, at(r.dO()));
                    meta.set(DELTA_AT, delta.offset());
                    meta.set(DQ_AT, dq.offset());
                    meta.set(DK_AT, dk.offset());
                    meta.set(DV_AT, dv.offset());
                    meta.set(DTABLE_AT, dTable != null ? dTable.offset() : 0);
                }
                int rows = Math.toIntExact(s.lseShape().elementCount());
                int queryTiles = (s.seqQ() + TILE_ROWS - 1) / TILE_ROWS;
                int keyTiles = (s.seqK() + TILE_ROWS - 1) / TILE_ROWS;
                heap.run(DeviceHeap.Op.ATTENTION_DELTA, 64, rows);
                heap.run(DeviceHeap.Op.ATTENTION_DQ, TILE_ROWS, s.batch() * s.heads() * queryTiles * TILE_ROWS);
                heap.run(DeviceHeap.Op.ATTENTION_DKV, TILE_ROWS, s.batch() * s.kvHeads() * keyTiles * TILE_ROWS);
                if (tableGrad) {
                    heap.run(DeviceHeap.Op.ATTENTION_DTABLE, 64, s.heads() * (s.seqQ() + s.seqK() - 1));
                }
                return new AttentionGradients(dq, dk, dv, dTable);
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            } finally {
                if (delta != null) {
                    delta.close();
                }
            }
        }
    }

    /**
     * Sizes, flags and the feature tensors' offsets of this call into {@code meta}/{@code fmeta} (slots of
     * {@link AttentionKernels}); the caller adds the offsets of q, k, v and the outputs.
     */
    static void describe(AttentionShape s, AttentionOptions o, IntArray meta, FloatArray fmeta) {
        meta.set(SQ, s.seqQ());
        meta.set(SK, s.seqK());
        meta.set(HEADS, s.heads());
        meta.set(KV_HEADS, s.kvHeads());
        meta.set(D, s.headDim());
        meta.set(BATCH, s.batch());
        meta.set(ROWS, Math.toIntExact(s.lseShape().elementCount()));
        meta.set(CAUSAL, o.causal() ? 1 : 0);
        // Row i sees keys i + reachLeft <= j <= i + reachRight as far as causal and the window go. Int arithmetic
        // suffices: the request records store a window side that excludes no key as -1, so windows are below Sk
        // (left) and Sq (right), and Sq + Sk < 2^31.
        int off = s.offset();
        meta.set(REACH_LEFT, o.windowLeft() >= 0 ? off - o.windowLeft() : -(s.seqQ() + s.seqK()));
        int reachRight = o.causal() ? off : s.seqK();
        if (o.windowRight() >= 0) {
            reachRight = Math.min(reachRight, off + o.windowRight());
        }
        meta.set(REACH_RIGHT, reachRight);
        DeviceTensor alibi = o.alibiSlopes();
        meta.set(ALIBI, alibi != null ? 1 : 0);
        meta.set(ALIBI_BS, alibi != null && alibi.shape().rank() == 2 ? s.heads() : 0);
        meta.set(ALIBI_AT, at(alibi));
        meta.set(TABLE, o.biasTable() != null ? 1 : 0);
        meta.set(TABLE_AT, at(o.biasTable()));
        denseStrides(o.denseMask(), s, meta, DMASK);
        meta.set(DMASK_AT, at(o.denseMask()));
        denseStrides(o.denseBias(), s, meta, DBIAS);
        meta.set(DBIAS_AT, at(o.denseBias()));
        DeviceTensor fm = o.flashMask();
        meta.set(FMASK, fm != null ? 1 : 0);
        meta.set(FMASK_HEADS, fm != null ? fm.shape().dim(1) : 1);
        meta.set(FMASK_N, fm != null ? fm.shape().dim(3) : 1);
        meta.set(FMASK_AT, at(fm));
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
        fmeta.set(NAN, Float.NaN);
    }

    /** A dense {@code [B|1, H|1, Sq, Sk]} tensor's flag, batch stride and head stride (0 where broadcast). */
    private static void denseStrides(DeviceTensor t, AttentionShape s, IntArray meta, int slot) {
        meta.set(slot, t != null ? 1 : 0);
        int plane = s.seqQ() * s.seqK();
        int heads = t != null ? t.shape().dim(1) : 1;
        meta.set(slot + 1, t == null || t.shape().dim(0) == 1 ? 0 : heads * plane);
        meta.set(slot + 2, heads == 1 ? 0 : plane);
    }
}
