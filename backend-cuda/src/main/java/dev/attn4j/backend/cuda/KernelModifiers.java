package dev.attn4j.backend.cuda;

import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.attention.Dropout;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import java.util.List;

/**
 * The mask, bias and dropout arguments every attention kernel ends with ({@code ATTN4J_MOD_PARAMS} in
 * {@code mods.cuh}), in its order. Absent tensors are null device pointers.
 */
final class KernelModifiers {

    private KernelModifiers() {
    }

    /** Whether {@code options} ask for nothing beyond causal masking (what the tensor-core forward does). */
    static boolean plain(AttentionOptions options) {
        return !options.hasWindow() && options.softcap() == 0.0 && options.alibiSlopes() == null
                && options.biasTable() == null && options.denseBias() == null && options.flashMask() == null
                && options.denseMask() == null && !options.dropout().enabled();
    }

    /** The arguments for {@code options} on a problem of shape {@code s}. */
    static List<Object> of(AttentionOptions options, AttentionShape s) {
        DeviceTensor alibi = options.alibiSlopes();
        DeviceTensor dbias = options.denseBias();
        DeviceTensor fmask = options.flashMask();
        Dropout drop = options.dropout();
        // kept iff (w >>> 8) >= p·2^24, i.e. >= ceil(p·2^24): the exact integer form of Dropout's u >= p;
        // 0 (keep everything) means no dropout.
        long threshold = drop.enabled() ? (long) Math.ceil(drop.p() * 0x1p24) : 0L;
        return List.of(
                flag(options.causal()), options.windowLeft(), options.windowRight(), (float) options.softcap(),
                ptr(alibi), flag(alibi != null && alibi.shape().rank() == 2),
                ptr(options.biasTable()),
                ptr(options.denseMask()), batchStride(options.denseMask(), s), headStride(options.denseMask(), s),
                ptr(dbias), flag(dbias != null && dbias.dtype() == DType.F32),
                batchStride(dbias, s), headStride(dbias, s),
                ptr(fmask), fmask != null ? fmask.shape().dim(1) : 1, fmask != null ? fmask.shape().dim(3) : 1,
                (int) threshold, (float) (1.0 / (1.0 - drop.p())),
                (int) drop.seed(), (int) (drop.seed() >>> 32), (int) drop.offset(), (int) (drop.offset() >>> 32));
    }

    /** Elements between batches of a dense {@code [B|1, H|1, Sq, Sk]} tensor: 0 where broadcast. */
    private static long batchStride(DeviceTensor t, AttentionShape s) {
        return t == null || t.shape().dim(0) == 1 ? 0L : (long) t.shape().dim(1) * s.seqQ() * s.seqK();
    }

    /** Elements between heads of a dense {@code [B|1, H|1, Sq, Sk]} tensor: 0 where broadcast. */
    private static long headStride(DeviceTensor t, AttentionShape s) {
        return t == null || t.shape().dim(1) == 1 ? 0L : (long) s.seqQ() * s.seqK();
    }

    private static DevicePointer ptr(DeviceTensor t) {
        return t == null ? DevicePointer.NULL : ((CudaTensor) t).pointer();
    }

    private static int flag(boolean value) {
        return value ? 1 : 0;
    }
}
