package dev.attn4j.backend.opencl;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.linear.LinearBackwardRequest;
import dev.attn4j.ports.linear.LinearPort;
import dev.attn4j.ports.linear.LinearRequest;
import dev.attn4j.ports.linear.MatmulRequest;
import dev.attn4j.ports.linear.WeightLayout;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.DeviceTensor;

import static dev.attn4j.backend.opencl.ClAttention.buf;

/**
 * Linear layers and matrix products on OpenCL (F32), every product one {@link ClGemm} call on the device.
 *
 * <ul>
 *   <li>forward {@code y = x·Wᵀ + b} ({@code OUT_IN}) or {@code x·W} ({@code IN_OUT}), the bias added in the
 *       GEMM's epilogue;</li>
 *   <li>backward {@code dx = dy·W} (or {@code dy·Wᵀ}), {@code dW += dyᵀ·x} (or {@code xᵀ·dy}) as a GEMM with
 *       {@code beta = 1}, and {@code db += Σ_rows dy} by {@code ops.cl}'s column sums (one work-item per column,
 *       rows in order): deterministic, no atomics;</li>
 *   <li>matmul: rank 2 or a strided batch, a batch-1 operand shared (batch stride 0).</li>
 * </ul>
 * Accumulators that share storage with an input (views of one buffer) are refused before anything runs: the facade
 * cannot see views overlap, and a GEMM reading what it writes would depend on the schedule.
 */
final class ClLinear implements LinearPort {
    private final OpenClEngine engine;

    ClLinear(OpenClEngine engine) {
        this.engine = engine;
    }

    @Override
    public DeviceTensor forward(LinearRequest r) {
        int rows = Math.toIntExact(r.rows());
        int in = r.inFeatures();
        int out = r.outFeatures();
        boolean outIn = r.layout() == WeightLayout.OUT_IN;
        synchronized (engine) {
            engine.requireOpen();
            ClTensor y = engine.allocate(r.outputShape(), DType.F32);
            try {
                // y [rows, out] = x [rows, in] · op(W): OUT_IN stores W [out, in], so op(W) = Wᵀ.
                engine.gemm().run(ClGemm.Call.of(false, outIn, rows, out, in, 1f, buf(r.x()), 0, in, buf(r.weight()), 0,
                        outIn ? in : out, 0f, y.buffer(), 0, out, r.bias() != null ? buf(r.bias()) : null));
                return y;
            } catch (RuntimeException e) {
                y.close();
                throw ClAttention.translate(e, "linear forward");
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
        ClTensor dW = (ClTensor) b.weightGrad();
        ClTensor db = (ClTensor) b.biasGrad();
        if (dW != null) {
            apart("weightGrad", dW, r.x(), r.weight(), b.dy(), r.bias(), db);
        }
        if (db != null) {
            apart("biasGrad", db, r.x(), r.weight(), b.dy(), r.bias());
        }
        synchronized (engine) {
            engine.requireOpen();
            ClTensor dx = b.inputGrad() ? engine.allocate(r.x().shape(), DType.F32) : null;
            try {
                if (dx != null) {
                    // dx [rows, in] = dy [rows, out] · W [out, in]  (IN_OUT: dy · Wᵀ with W [in, out])
                    engine.gemm().run(ClGemm.Call.of(false, !outIn, rows, in, out, 1f, buf(b.dy()), 0, out,
                            buf(r.weight()), 0, outIn ? in : out, 0f, dx.buffer(), 0, in, null));
                }
                if (dW != null) {
                    if (outIn) {
                        // dW [out, in] += dyᵀ [out, rows] · x [rows, in]
                        engine.gemm().run(ClGemm.Call.of(true, false, out, in, rows, 1f, buf(b.dy()), 0, out,
                                buf(r.x()), 0, in, 1f, dW.buffer(), 0, in, null));
                    } else {
                        // dW [in, out] += xᵀ [in, rows] · dy [rows, out]
                        engine.gemm().run(ClGemm.Call.of(true, false, in, out, rows, 1f, buf(r.x()), 0, in,
                                buf(b.dy()), 0, out, 1f, dW.buffer(), 0, out, null));
                    }
                }
                if (db != null) {
                    engine.ops().columnSums(buf(b.dy()), 0, rows, out, db.buffer());
                }
                return dx;
            } catch (RuntimeException e) {
                if (dx != null) {
                    dx.close();
                }
                throw ClAttention.translate(e, "linear backward");
            }
        }
    }

    @Override
    public void matmul(MatmulRequest r) {
        ClTensor c = (ClTensor) r.c();
        apart("c", c, r.a(), r.b());
        int m = r.m();
        int n = r.n();
        int k = r.k();
        int batch = r.batch();
        boolean batched = r.c().shape().rank() == 3;
        long aSize = (long) m * k;
        long bSize = (long) k * n;
        long aBatch = batched && !MatmulRequest.shared(r.a()) ? aSize : 0;
        long bBatch = batched && !MatmulRequest.shared(r.b()) ? bSize : 0;
        // Leading dimensions of the stored (not transposed) matrices.
        long lda = r.a().shape().dim(-1);
        long ldb = r.b().shape().dim(-1);
        synchronized (engine) {
            engine.requireOpen();
            try {
                engine.gemm().run(new ClGemm.Call(r.transposeA(), r.transposeB(), m, n, k, r.alpha(), buf(r.a()), 0, lda,
                        buf(r.b()), 0, ldb, r.beta(), c.buffer(), 0, n, batch, aBatch, bBatch, (long) m * n, null));
            } catch (RuntimeException e) {
                throw ClAttention.translate(e, "matmul");
            }
        }
    }

    /** Rejects an output sharing storage with any of the inputs (views of one buffer), before anything runs. */
    static void apart(String written, ClTensor out, DeviceTensor... inputs) {
        for (DeviceTensor t : inputs) {
            if (t != null && out.overlaps((ClTensor) t)) {
                throw new InvalidRequestException(written, "storage apart from the request's other tensors",
                        "a view sharing storage with one of them");
            }
        }
    }
}
