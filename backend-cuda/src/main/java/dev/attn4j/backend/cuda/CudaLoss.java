package dev.attn4j.backend.cuda;

import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * The fused linear cross-entropy, in chunks of rows so that the {@code [rows, V]} logits never exist whole
 * (Liger-Kernel's scheme). For each chunk of {@code c} rows starting at row {@code r0}:
 * <ol>
 *   <li>fp32 logits {@code [c, V] = h[r0 : r0 + c]·Wᵀ} by cuBLAS (the bias broadcast into them first, then
 *       {@code beta = 1}); a 16-bit model's operands meet fp32 output here, so no logit is rounded to 16 bits;</li>
 *   <li>{@code ce_rows}: each row's loss, and {@code g = gradScale·(softmax − onehot)} over the logits in place
 *       (and rounded into a storage-type buffer for F16/BF16, which the next GEMMs read);</li>
 *   <li>{@code dh[r0 : r0 + c] = g·W}, {@code dW += gᵀ·h[r0 : r0 + c]} by cuBLAS, {@code db += Σ g} by
 *       {@link ColumnSums} over the fp32 {@code g}.</li>
 * </ol>
 * Then {@code ce_total} adds the per-row losses and counts the rows in a fixed order. The chunk's GEMMs are planned by
 * {@link #chunkGemms}, a pure function the tests replay without a GPU.
 */
final class CudaLoss implements LossPort {
    /** Threads per block of the row kernel and the total ({@code CE_THREADS} in loss.cu). */
    static final int THREADS = 256;
    /** A chunk's fp32 logits are kept within this many elements (64 MiB) unless the backend option says otherwise. */
    static final long CHUNK_ELEMENTS = 1L << 24;

    private final CudaEngine engine;
    private final int chunkRowsOption;

    /**
     * @param engine         the engine
     * @param chunkRowsOption rows per chunk, or 0 to keep each chunk's logits within {@link #CHUNK_ELEMENTS}
     */
    CudaLoss(CudaEngine engine, int chunkRowsOption) {
        this.engine = engine;
        this.chunkRowsOption = chunkRowsOption;
    }

    /** Rows per chunk: the option's, else as many as keep {@code rows·V} logits within {@link #CHUNK_ELEMENTS}. */
    static int chunkRows(long rows, int vocab, int option) {
        long chosen = option > 0 ? option : Math.max(1, CHUNK_ELEMENTS / vocab);
        return (int) Math.min(rows, chosen);
    }

    @Override
    public CrossEntropyResult linearCrossEntropy(CrossEntropyRequest r) {
        if (r.weightGrad() != null) {
            CudaEngine.requireApart("weightGrad", r.weightGrad(), "hidden", r.hidden(), false);
            CudaEngine.requireApart("weightGrad", r.weightGrad(), "weight", r.weight(), false);
            if (r.bias() != null) {
                CudaEngine.requireApart("weightGrad", r.weightGrad(), "bias", r.bias(), false);
            }
        }
        if (r.biasGrad() != null) {
            for (DeviceTensor read : List.of(r.hidden(), r.weight(), r.bias())) {
                CudaEngine.requireApart("biasGrad", r.biasGrad(), "an input", read, false);
            }
            if (r.weightGrad() != null) {
                CudaEngine.requireApart("biasGrad", r.biasGrad(), "weightGrad", r.weightGrad(), false);
            }
        }
        DType t = r.hidden().dtype();
        long rows = r.rows();
        int vocab = r.vocabulary();
        int d = r.hidden().shape().dim(-1);
        int chunk = chunkRows(rows, vocab, chunkRowsOption);
        boolean grads = r.wantsGradients();
        boolean storageGrad = t != DType.F32 && (r.inputGrad() || r.weightGrad() != null);
        return engine.call(() -> {
            CudaTensor lossSum = null;
            CudaTensor count = null;
            CudaTensor dHidden = null;
            CudaTensor perToken = null;
            CudaTensor logits = null;
            CudaTensor gradBuffer = null;
            try {
                lossSum = engine.allocate(Shape.of(1), DType.F32);
                count = engine.allocate(Shape.of(1), DType.F32);
                perToken = engine.allocate(r.targets().shape(), DType.F32);
                dHidden = r.inputGrad() ? engine.allocate(r.hidden().shape(), t) : null;
                logits = engine.allocate(Shape.of(chunk, vocab), DType.F32);
                gradBuffer = storageGrad ? engine.allocate(Shape.of(chunk, vocab), t) : null;
                CudaTensor hidden = (CudaTensor) r.hidden();
                CudaTensor targets = (CudaTensor) r.targets();
                String rowKernel = KernelCatalog.crossEntropyRows(t);
                for (long r0 = 0; r0 < rows; r0 += chunk) {
                    int c = (int) Math.min(chunk, rows - r0);
                    if (r.bias() != null) {
                        engine.launchItems(KernelCatalog.broadcastRows(t, DType.F32), (long) c * vocab, CudaTensors.THREADS,
                                ptr(r.bias()), logits.pointer(), (long) c, vocab);
                    }
                    List<GemmCall> gemms = chunkGemms(r, r0, c, hidden.pointer(), ptr(r.weight()), logits.pointer(),
                            gradBuffer != null ? gradBuffer.pointer() : logits.pointer(),
                            dHidden != null ? dHidden.pointer() : null,
                            r.weightGrad() != null ? ptr(r.weightGrad()) : null);
                    engine.gemm(gemms.getFirst());
                    engine.launch(rowKernel, c, 1, 1, THREADS, rowArgs(logits.pointer(),
                            gradBuffer != null ? gradBuffer.pointer() : logits.pointer(), gradBuffer != null,
                            targets.at(r0), vocab, r.ignoreIndex(), r.gradScale(), grads, perToken.at(r0)));
                    for (GemmCall g : gemms.subList(1, gemms.size())) {
                        engine.gemm(g);
                    }
                    if (r.biasGrad() != null) {
                        ColumnSums.accumulate(engine, DType.F32, logits.pointer(), null, c, vocab, t, ptr(r.biasGrad()));
                    }
                }
                engine.launch(KernelCatalog.CROSS_ENTROPY_TOTAL, 1, 1, 1, THREADS, perToken.pointer(), targets.pointer(),
                        rows, r.ignoreIndex(), lossSum.pointer(), count.pointer());
                engine.synchronize("linear cross-entropy " + r.hidden().shape() + " V=" + vocab + " " + t);
                if (!r.perTokenLoss()) {
                    perToken.close();
                    perToken = null;
                }
                return new CrossEntropyResult(lossSum, count, dHidden, perToken);
            } catch (RuntimeException e) {
                CudaEngine.closeAll(lossSum, count, dHidden, perToken);
                throw e;
            } finally {
                CudaEngine.closeAll(logits, gradBuffer);
            }
        });
    }

    /** The row kernel's arguments, in its order. */
    static Object[] rowArgs(DevicePointer logits, DevicePointer grad, boolean writeStorage, DevicePointer targets,
                            int vocab, int ignoreIndex, float gradScale, boolean wantGrad, DevicePointer perToken) {
        return new Object[] {logits, grad, writeStorage ? 1 : 0, targets, vocab, ignoreIndex, gradScale,
                wantGrad ? 1 : 0, perToken};
    }

    /**
     * The GEMMs of the chunk of {@code c} rows from {@code r0}: first the logits {@code [c, V] = h·Wᵀ (+ bias
     * already in them)} into fp32, then (after the row kernel) {@code dh = g·W} when {@code dHidden} is given and
     * {@code dW += gᵀ·h} when {@code dW} is given, reading {@code g} from {@code grad} (the logits themselves for
     * F32, the storage-type copy otherwise).
     */
    static List<GemmCall> chunkGemms(CrossEntropyRequest r, long r0, int c, DevicePointer hidden, DevicePointer weight,
                                     DevicePointer logits, DevicePointer grad, DevicePointer dHidden, DevicePointer dW) {
        DType t = r.hidden().dtype();
        int vocab = r.vocabulary();
        int d = r.hidden().shape().dim(-1);
        long rowBytes = (long) d * t.byteSize();
        DevicePointer h = hidden.plus(r0 * rowBytes);
        List<GemmCall> gemms = new ArrayList<>();
        gemms.add(GemmCall.rowMajor(c, vocab, d, 1f, h, false, d, 0, weight, true, d, 0, r.bias() != null ? 1f : 0f,
                logits, vocab, 0, 1, t, DType.F32));
        if (dHidden != null) {
            gemms.add(GemmCall.rowMajor(c, d, vocab, 1f, grad, false, vocab, 0, weight, false, d, 0, 0f,
                    dHidden.plus(r0 * rowBytes), d, 0, 1, t, t));
        }
        if (dW != null) {
            gemms.add(GemmCall.rowMajor(vocab, d, c, 1f, grad, true, vocab, 0, h, false, d, 0, 1f, dW, d, 0, 1, t, t));
        }
        return gemms;
    }

    private static DevicePointer ptr(DeviceTensor t) {
        return ((CudaTensor) t).pointer();
    }
}
