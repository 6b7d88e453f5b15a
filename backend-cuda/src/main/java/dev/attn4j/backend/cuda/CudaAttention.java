package dev.attn4j.backend.cuda;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionOptions;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.attention.AttentionShape;
import dev.attn4j.ports.tensor.DType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Launches the kernels of {@code attention.cu}: forward, then backward as three passes (delta = rowsum(dO·o);
 * dK/dV per key tile; dQ per query tile), so no two blocks write the same gradient row, plus the bias
 * table's gradient when asked. Masks, biases, softcap and dropout travel as the kernels' trailing
 * arguments ({@link KernelModifiers}); the tensor-core forward serves only plain or causal requests.
 */
final class CudaAttention implements AttentionPort {
    /** Threads per block of every attention kernel ({@code THREADS} in attention.cu). */
    static final int THREADS = 128;
    /** Values of a row per thread ({@code Tiling::ELEMS}). */
    static final int ELEMS = 16;
    /** Query rows per block of the tensor-core forward ({@code TC_ROWS} in attention_tc.cu). */
    static final int TENSOR_CORE_ROWS = 64;
    /** The CUDA limit on grid dimensions y and z (heads, batch). */
    private static final int MAX_GRID_YZ = 65535;

    private final CudaEngine engine;

    CudaAttention(CudaEngine engine) {
        this.engine = engine;
    }

    /** Rows (queries or keys) one block owns for head-dim bucket {@code bucket} ({@code Tiling::ROWS}). */
    static int rowsPerBlock(int bucket) {
        return THREADS / (bucket / ELEMS);
    }

    @Override
    public AttentionResult forward(AttentionRequest request) {
        AttentionShape s = request.shape();
        checkGrid(s);
        DType dtype = request.q().dtype();
        int bucket = KernelCatalog.headDimBucket(s.headDim());
        int rows = rowsPerBlock(bucket);
        int tcBucket = KernelCatalog.tensorCoreBucket(s.headDim());
        AttentionOptions options = request.options();
        boolean tensorCores = engine.tensorCores() && tcBucket > 0 && KernelCatalog.TENSOR_CORE_DTYPES.contains(dtype)
                && KernelModifiers.plain(options);
        return engine.call(() -> {
            CudaTensor o = null;
            CudaTensor lse = null;
            try {
                o = engine.allocate(s.queryShape(), dtype);
                lse = engine.allocate(s.lseShape(), DType.F32);
                String kernel;
                if (tensorCores) {
                    kernel = KernelCatalog.tensorCoreForward(dtype, tcBucket);
                    engine.gpu().launch(kernel, engine.tensorCoreSharedBytes(kernel),
                            blocks(s.seqQ(), TENSOR_CORE_ROWS), s.heads(), s.batch(), THREADS,
                            ptr(request.q()), ptr(request.k()), ptr(request.v()), o.pointer(), lse.pointer(),
                            s.seqQ(), s.seqK(), s.heads(), s.kvHeads(), s.headDim(), flag(options.causal()),
                            scale(options, s));
                } else {
                    kernel = KernelCatalog.attentionForward(dtype, bucket);
                    engine.launch(kernel, blocks(s.seqQ(), rows), s.heads(), s.batch(), THREADS,
                            args(List.of(ptr(request.q()), ptr(request.k()), ptr(request.v()), o.pointer(), lse.pointer()),
                                    s, options));
                }
                engine.synchronize(kernel);
                return new AttentionResult(o, lse);
            } catch (RuntimeException e) {
                CudaEngine.closeAll(o, lse);
                throw e;
            }
        });
    }

    @Override
    public AttentionGradients backward(AttentionBackwardRequest request) {
        AttentionShape s = request.shape();
        checkGrid(s);
        DType dtype = request.q().dtype();
        int bucket = KernelCatalog.headDimBucket(s.headDim());
        int rows = rowsPerBlock(bucket);
        AttentionOptions options = request.options();
        return engine.call(() -> {
            CudaTensor delta = null;
            CudaTensor dq = null;
            CudaTensor dk = null;
            CudaTensor dv = null;
            CudaTensor dTable = null;
            try {
                delta = engine.allocate(s.lseShape(), DType.F32);
                dq = engine.allocate(s.queryShape(), dtype);
                dk = engine.allocate(s.keyShape(), dtype);
                dv = engine.allocate(s.keyShape(), dtype);
                long deltaRows = (long) s.batch() * s.heads() * s.seqQ();
                int warpsPerBlock = THREADS / 32;
                engine.launch(KernelCatalog.attentionDelta(dtype),
                        Math.toIntExact((deltaRows + warpsPerBlock - 1) / warpsPerBlock), 1, 1, THREADS,
                        ptr(request.dO()), ptr(request.o()), delta.pointer(), s.batch(), s.seqQ(), s.heads(), s.headDim());
                List<Object> inputs = List.of(ptr(request.dO()), ptr(request.q()), ptr(request.k()), ptr(request.v()),
                        ptr(request.lse()), delta.pointer());
                engine.launch(KernelCatalog.attentionBackwardKeyValue(dtype, bucket),
                        blocks(s.seqK(), rows), s.kvHeads(), s.batch(), THREADS,
                        args(concat(inputs, dk.pointer(), dv.pointer()), s, options));
                engine.launch(KernelCatalog.attentionBackwardQuery(dtype, bucket),
                        blocks(s.seqQ(), rows), s.heads(), s.batch(), THREADS,
                        args(concat(inputs, dq.pointer()), s, options));
                if (options.biasTableGrad()) {
                    dTable = engine.allocate(s.biasTableShape(), DType.F32);
                    int entries = s.heads() * (s.seqQ() + s.seqK() - 1);
                    engine.launch(KernelCatalog.attentionBackwardTable(dtype), blocks(entries, THREADS), 1, 1,
                            THREADS, tableArgs(concat(inputs, dTable.pointer()), s, options));
                }
                engine.synchronize("attention backward " + dtype + " d" + bucket);
                return new AttentionGradients(dq, dk, dv, dTable);
            } catch (RuntimeException e) {
                CudaEngine.closeAll(dq, dk, dv, dTable);
                throw e;
            } finally {
                CudaEngine.closeAll(delta);
            }
        });
    }

    /** The bias-table gradient kernel's arguments: {@code tensors}, the batch, then {@link #args}'s tail. */
    static Object[] tableArgs(List<Object> tensors, AttentionShape s, AttentionOptions options) {
        List<Object> all = new ArrayList<>(tensors);
        all.add(s.batch());
        all.addAll(Arrays.asList(args(List.of(), s, options)));
        return all.toArray();
    }

    /** {@code tensors}, then the sizes, the scale and the modifiers: every attention kernel's tail. */
    static Object[] args(List<Object> tensors, AttentionShape s, AttentionOptions options) {
        List<Object> all = new ArrayList<>(tensors);
        all.addAll(List.of(s.seqQ(), s.seqK(), s.heads(), s.kvHeads(), s.headDim(), scale(options, s)));
        all.addAll(KernelModifiers.of(options, s));
        return all.toArray();
    }

    private static List<Object> concat(List<Object> first, Object... more) {
        List<Object> all = new ArrayList<>(first);
        all.addAll(List.of(more));
        return all;
    }

    private static void checkGrid(AttentionShape s) {
        InvalidRequestException.check(s.batch() <= MAX_GRID_YZ, "q", "a batch of at most " + MAX_GRID_YZ
                + " on the cuda backend (CUDA grid limit)", s.batch());
        InvalidRequestException.check(s.heads() <= MAX_GRID_YZ, "q", "at most " + MAX_GRID_YZ
                + " heads on the cuda backend (CUDA grid limit)", s.heads());
    }

    private static int blocks(int n, int perBlock) {
        return (n + perBlock - 1) / perBlock;
    }

    private static float scale(AttentionOptions options, AttentionShape s) {
        return (float) options.scaleFor(s.headDim());
    }

    private static int flag(boolean value) {
        return value ? 1 : 0;
    }

    private static DevicePointer ptr(dev.attn4j.ports.tensor.DeviceTensor t) {
        return ((CudaTensor) t).pointer();
    }
}
