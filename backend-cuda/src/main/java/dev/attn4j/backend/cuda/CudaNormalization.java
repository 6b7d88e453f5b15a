package dev.attn4j.backend.cuda;

import dev.attn4j.ports.norm.NormBackwardRequest;
import dev.attn4j.ports.norm.NormGradients;
import dev.attn4j.ports.norm.NormKind;
import dev.attn4j.ports.norm.NormRequest;
import dev.attn4j.ports.norm.NormResult;
import dev.attn4j.ports.norm.NormalizationPort;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

/**
 * Launches the kernels of {@code norm.cu}. Kernels take a flag plus a pointer for every optional tensor;
 * where the tensor is absent another valid pointer is passed and the flag tells the kernel not to touch it.
 */
final class CudaNormalization implements NormalizationPort {
    /** Threads per row block ({@code NORM_THREADS} in norm.cu). */
    static final int ROW_THREADS = 256;
    /** Threads per column block ({@code COLUMN_THREADS} in norm.cu). */
    static final int COLUMN_THREADS = 128;
    /** At most this many row chunks in the gamma/beta gradient's first pass. */
    static final int MAX_CHUNKS = 256;

    private final CudaEngine engine;

    CudaNormalization(CudaEngine engine) {
        this.engine = engine;
    }

    @Override
    public NormResult forward(NormRequest r) {
        DType t = r.input().dtype();
        int rows = Math.toIntExact(r.rows());
        int c = r.input().shape().dim(-1);
        boolean rms = r.kind() == NormKind.RMS_NORM;
        boolean residual = r.residual() != null;
        return engine.call(() -> {
            CudaTensor y = null;
            CudaTensor mean = null;
            CudaTensor rstd = null;
            CudaTensor sum = null;
            try {
                y = engine.allocate(r.input().shape(), t);
                rstd = engine.allocate(r.statsShape(), DType.F32);
                mean = rms ? null : engine.allocate(r.statsShape(), DType.F32);
                sum = residual ? engine.allocate(r.input().shape(), t) : null;
                String kernel = KernelCatalog.normForward(t, r.gamma().dtype());
                engine.launch(kernel, rows, 1, 1, ROW_THREADS,
                        ptr(r.input()), ptr(residual ? r.residual() : r.input()), flag(residual), (float) r.residualScale(),
                        ptr(r.gamma()), ptr(r.beta() != null ? r.beta() : r.gamma()), flag(r.beta() != null),
                        flag(rms), (float) r.eps(), c,
                        y.pointer(), (mean != null ? mean : rstd).pointer(), rstd.pointer(), (sum != null ? sum : y).pointer());
                engine.synchronize(kernel);
                return new NormResult(y, mean, rstd, sum);
            } catch (RuntimeException e) {
                CudaEngine.closeAll(y, mean, rstd, sum);
                throw e;
            }
        });
    }

    @Override
    public NormGradients backward(NormBackwardRequest b) {
        NormRequest r = b.forward();
        DType t = r.input().dtype();
        DType g = r.gamma().dtype();
        int rows = Math.toIntExact(r.rows());
        int c = r.input().shape().dim(-1);
        boolean rms = r.kind() == NormKind.RMS_NORM;
        boolean residual = r.residual() != null;
        boolean bias = r.beta() != null;
        int rowsPerChunk = (rows + Math.min(rows, MAX_CHUNKS) - 1) / Math.min(rows, MAX_CHUNKS);
        int chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
        int columnBlocks = (c + COLUMN_THREADS - 1) / COLUMN_THREADS;
        return engine.call(() -> {
            CudaTensor dx = null;
            CudaTensor dResidual = null;
            CudaTensor dGamma = null;
            CudaTensor dBeta = null;
            CudaTensor gammaPartial = null;
            CudaTensor betaPartial = null;
            try {
                dx = engine.allocate(r.input().shape(), t);
                dResidual = residual ? engine.allocate(r.input().shape(), t) : null;
                dGamma = engine.allocate(Shape.of(c), g);
                dBeta = bias ? engine.allocate(Shape.of(c), g) : null;
                gammaPartial = engine.allocate(Shape.of(chunks, c), DType.F32);
                betaPartial = engine.allocate(Shape.of(chunks, c), DType.F32);
                DevicePointer h = ptr(b.normalizedInput());
                DevicePointer rstd = ptr(b.saved().rstd());
                DevicePointer mean = rms ? rstd : ptr(b.saved().mean());
                engine.launch(KernelCatalog.normBackward(t, g), rows, 1, 1, ROW_THREADS,
                        h, mean, rstd, ptr(r.gamma()), ptr(b.dy()), ptr(b.dSum() != null ? b.dSum() : b.dy()),
                        flag(b.dSum() != null), flag(rms), c, (float) r.residualScale(),
                        dx.pointer(), (dResidual != null ? dResidual : dx).pointer(), flag(residual));
                engine.launch(KernelCatalog.normParamPartials(t), columnBlocks, chunks, 1, COLUMN_THREADS,
                        h, mean, rstd, ptr(b.dy()), flag(rms), rows, c, rowsPerChunk,
                        gammaPartial.pointer(), betaPartial.pointer());
                engine.launch(KernelCatalog.normParamTotals(g), columnBlocks, 1, 1, COLUMN_THREADS,
                        gammaPartial.pointer(), betaPartial.pointer(), chunks, c,
                        dGamma.pointer(), (dBeta != null ? dBeta : dGamma).pointer(), flag(bias));
                engine.synchronize("norm backward " + r.kind() + " " + t);
                return new NormGradients(dx, dResidual, dGamma, dBeta);
            } catch (RuntimeException e) {
                CudaEngine.closeAll(dx, dResidual, dGamma, dBeta);
                throw e;
            } finally {
                CudaEngine.closeAll(gammaPartial, betaPartial);
            }
        });
    }

    private static DevicePointer ptr(DeviceTensor t) {
        return ((CudaTensor) t).pointer();
    }

    private static int flag(boolean value) {
        return value ? 1 : 0;
    }
}
