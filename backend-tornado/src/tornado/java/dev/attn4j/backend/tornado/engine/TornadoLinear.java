package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearPort;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.linear.WeightLayout;
import dev.attn4j.ports.tensor.DeviceTensor;

import static dev.attn4j.backend.tornado.engine.TornadoTensor.at;

/**
 * Linear layers and matrix products on TornadoVM (F32), every product one {@link TornadoGemm} launch on blocks of
 * the float heap:
 * <ul>
 *   <li>forward {@code y = x·Wᵀ + b} ({@code OUT_IN}) or {@code x·W} ({@code IN_OUT}), the bias added in the
 *       GEMM's epilogue;</li>
 *   <li>backward {@code dx = dy·W} (or {@code dy·Wᵀ}), {@code dW += dyᵀ·x} (or {@code xᵀ·dy}) as a GEMM with
 *       {@code beta = 1}, {@code db += Σ_rows dy} by {@link ModelKernels#columnDots} (one item per column, rows in
 *       order): deterministic, no atomics;</li>
 *   <li>matmul: rank 2 or a strided batch, a batch-1 operand shared (batch stride 0).</li>
 * </ul>
 * Accumulators that share storage with an input (views of one block) are refused before anything runs.
 */
final class TornadoLinear implements LinearPort {
    private final TornadoEngine engine;
    private final TornadoTensors tensors;

    TornadoLinear(TornadoEngine engine, TornadoTensors tensors) {
        this.engine = engine;
        this.tensors = tensors;
    }

    @Override
    public DeviceTensor forward(LinearRequest r) {
        int rows = Math.toIntExact(r.rows());
        int in = r.inFeatures();
        int out = r.outFeatures();
        boolean outIn = r.layout() == WeightLayout.OUT_IN;
        synchronized (engine) {
            Made made = new Made();
            try {
                TornadoTensor y = made.add(tensors.allocate(r.outputShape()));
                // y [rows, out] = x [rows, in] · op(W): OUT_IN stores W [out, in], so op(W) = Wᵀ.
                TornadoGemm.run(engine.heap(), false, outIn, rows, out, in, 1f, at(r.x()), in, at(r.weight()),
                        outIn ? in : out, 0f, y.offset(), out, 1, 0, 0, 0,
                        r.bias() != null ? at(r.bias()) : TornadoGemm.NO_BIAS);
                return y;
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            }
        }
    }

    @Override
    public DeviceTensor backward(LinearBackwardRequest b) {
        LinearRequest r = b.forward();
        int rows = Math.toIntExact(r.rows());
        int in = r.inFeatures();
        int out = r.outFeatures();
        boolean outIn = r.layout() == WeightLayout.OUT_IN;
        int ldw = outIn ? in : out;
        TornadoTensor.apart("weightGrad", b.weightGrad(), r.x(), r.weight(), b.dy(), r.bias(), b.biasGrad());
        TornadoTensor.apart("biasGrad", b.biasGrad(), r.x(), r.weight(), b.dy(), r.bias());
        synchronized (engine) {
            Made made = new Made();
            try {
                TornadoTensor dx = b.inputGrad() ? made.add(tensors.allocate(r.x().shape())) : null;
                DeviceHeap heap = engine.heap();
                if (dx != null) {
                    // dx [rows, in] = dy [rows, out] · W [out, in]  (IN_OUT: dy · Wᵀ with W [in, out])
                    TornadoGemm.run(heap, false, !outIn, rows, in, out, 1f, at(b.dy()), out, at(r.weight()), ldw, 0f,
                            dx.offset(), in, 1, 0, 0, 0, TornadoGemm.NO_BIAS);
                }
                if (b.weightGrad() != null) {
                    if (outIn) {
                        // dW [out, in] += dyᵀ [out, rows] · x [rows, in]
                        TornadoGemm.run(heap, true, false, out, in, rows, 1f, at(b.dy()), out, at(r.x()), in, 1f,
                                at(b.weightGrad()), in, 1, 0, 0, 0, TornadoGemm.NO_BIAS);
                    } else {
                        // dW [in, out] += xᵀ [in, rows] · dy [rows, out]
                        TornadoGemm.run(heap, true, false, in, out, rows, 1f, at(r.x()), in, at(b.dy()), out, 1f,
                                at(b.weightGrad()), out, 1, 0, 0, 0, TornadoGemm.NO_BIAS);
                    }
                }
                if (b.biasGrad() != null) {
                    columnSums(heap, at(b.dy()), rows, out, at(b.biasGrad()));
                }
                return dx;
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            }
        }
    }

    @Override
    public void matmul(MatmulRequest r) {
        int m = r.m();
        int n = r.n();
        int k = r.k();
        int batch = r.batch();
        TornadoTensor.apart("c", r.c(), r.a(), r.b());
        boolean batched = r.c().shape().rank() == 3;
        int aBatch = batched && !MatmulRequest.shared(r.a()) ? Math.multiplyExact(m, k) : 0;
        int bBatch = batched && !MatmulRequest.shared(r.b()) ? Math.multiplyExact(k, n) : 0;
        synchronized (engine) {
            // Leading dimensions of the stored (not transposed) matrices.
            TornadoGemm.run(engine.heap(), r.transposeA(), r.transposeB(), m, n, k, r.alpha(), at(r.a()),
                    r.a().shape().dim(-1), at(r.b()), r.b().shape().dim(-1), r.beta(), at(r.c()), n, batch, aBatch,
                    bBatch, Math.multiplyExact(m, n), TornadoGemm.NO_BIAS);
        }
    }

    /** {@code sum[c] += Σ_r x[r·cols + c]}, rows in order (a bias gradient). Call with the engine's lock held. */
    static void columnSums(DeviceHeap heap, int x, int rows, int cols, int sum) {
        new HeapCall(heap, DeviceHeap.Op.COLUMN_DOTS).set(ModelKernels.A_AT, x).set(ModelKernels.B_AT, x)
                .set(ModelKernels.MODE, 0).set(ModelKernels.ROWS, rows).set(ModelKernels.COLS, cols)
                .set(ModelKernels.D_AT, sum).run(64, cols);
    }
}
