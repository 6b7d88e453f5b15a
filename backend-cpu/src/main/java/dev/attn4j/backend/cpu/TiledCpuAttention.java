package dev.attn4j.backend.cpu;

import dev.attn4j.ports.attention.AttentionBackwardRequest;
import dev.attn4j.ports.attention.AttentionGradients;
import dev.attn4j.ports.attention.AttentionLayout;
import dev.attn4j.ports.attention.AttentionPort;
import dev.attn4j.ports.attention.AttentionRequest;
import dev.attn4j.ports.attention.AttentionResult;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * The cpu backend's attention port: exact attention in the FlashAttention-2 way (Dao, 2023), on the heap; the
 * {@code Sq × Sk} matrix is never held, only {@link AttentionProblem#BR}×{@link AttentionProblem#bc} tiles of it,
 * per worker. This class allocates the outputs and hands the call to its kernels:
 * <ul>
 *   <li>{@link AttentionForward}: query tiles against key tiles, online softmax;</li>
 *   <li>{@link AttentionDecode}: one query position (generation), the keys split across workers and the splits
 *       combined by their log-sum-exp;</li>
 *   <li>{@link AttentionBackward}: key-tile units owning their dK, dV, dQ reduced in a fixed order;</li>
 *   <li>{@link AttentionPacking}: the copies into the zero-padded buffers the tile products read.</li>
 * </ul>
 * Every product of a tile goes through one micro-kernel, {@link TileMath#gemm}; the score rules live in
 * {@link AttentionProblem} ({@link KeyRanges}, {@link TileClasses}, {@link ScoreBiases}, {@link AttentionDropout}).
 */
final class TiledCpuAttention implements AttentionPort {
    private final CpuEngine engine;
    private final AttentionForward forward;
    private final AttentionDecode decode;
    private final AttentionBackward backward;

    TiledCpuAttention(CpuEngine engine, WorkerPool pool, TileMath math) {
        this.engine = engine;
        this.forward = new AttentionForward(pool, math);
        this.decode = new AttentionDecode(pool, math);
        this.backward = new AttentionBackward(pool, math);
    }

    @Override
    public AttentionResult forward(AttentionRequest request) {
        AttentionProblem p = new AttentionProblem(request.shape(), request.options(), (CpuTensor) request.q(),
                (CpuTensor) request.k(), (CpuTensor) request.v());
        CpuTensor o = engine.newFloats(p.shape.queryShape(request.options().layout()));
        CpuTensor lse;
        try {
            lse = engine.newFloats(p.shape.lseShape());
        } catch (RuntimeException | Error e) {
            o.close();
            throw e;
        }
        try {
            if (AttentionDecode.applies(p)) {
                decode.run(p, o.f32(), lse.f32());
            } else {
                forward.run(p, o.f32(), lse.f32());
            }
            engine.requireOpen("attention forward");
            return new AttentionResult(o, lse);
        } catch (RuntimeException | Error e) {
            // Interrupted, closed or failed: the outputs never reach the caller, so they are freed here.
            o.close();
            lse.close();
            throw e;
        }
    }

    @Override
    public AttentionGradients backward(AttentionBackwardRequest request) {
        AttentionProblem p = new AttentionProblem(request.shape(), request.options(), (CpuTensor) request.q(),
                (CpuTensor) request.k(), (CpuTensor) request.v());
        Span<float[]> dO = ((CpuTensor) request.dO()).f32();
        Span<float[]> o = ((CpuTensor) request.o()).f32();
        Span<float[]> lse = ((CpuTensor) request.lse()).f32();
        AttentionLayout layout = request.options().layout();
        boolean tableGrad = request.options().biasTableGrad();
        List<CpuTensor> made = new ArrayList<>(4);
        try {
            CpuTensor dq = made(made, p.shape.queryShape(layout));
            CpuTensor dk = made(made, p.shape.keyShape(layout));
            CpuTensor dv = made(made, p.shape.keyShape(layout));
            CpuTensor dTable = tableGrad ? made(made, p.shape.biasTableShape()) : null;
            backward.run(p, tableGrad, dO, o, lse, dq, dk, dv, dTable);
            engine.requireOpen("attention backward");
            return new AttentionGradients(dq, dk, dv, dTable);
        } catch (RuntimeException | Error e) {
            // The gradients never reach the caller: free them.
            made.forEach(CpuTensor::close);
            throw e;
        }
    }

    private CpuTensor made(List<CpuTensor> made, Shape shape) {
        CpuTensor t = engine.newFloats(shape);
        made.add(t);
        return t;
    }
}
