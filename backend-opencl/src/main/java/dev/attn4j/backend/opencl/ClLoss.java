package dev.attn4j.backend.opencl;

import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

import static dev.attn4j.backend.opencl.ClAttention.buf;

/**
 * Fused linear cross-entropy on OpenCL (F32), Liger-Kernel's scheme: the rows go through in chunks, so the
 * {@code [rows, V]} logits never exist whole. Per chunk, all on the device: the logits {@code h·Eᵀ + b} (a
 * {@link ClGemm} with the bias in its epilogue), {@code loss.cl}'s per-row max, sum, loss and the gradient
 * {@code g = gradScale·(softmax − onehot)} written over the logits in place, then {@code dh = g·E},
 * {@code dE += gᵀ·h} (a GEMM with {@code beta = 1}) and {@code db += Σ_rows g} (column sums in row order). The
 * loss sum and the count are added in row order at the end. Every step is deterministic; the chunk size depends on
 * {@code V} only, so the order of the accumulations into {@code dE}, {@code db} is fixed for a given request.
 */
final class ClLoss implements LossPort {
    private static final String SOURCE = "loss.cl";
    /** Logits per chunk at most (16 MiB of fp32): chunk rows = this / V, at least one. */
    static final long CHUNK_ELEMENTS = 1L << 22;

    private final OpenClEngine engine;
    private final int group;

    ClLoss(OpenClEngine engine) {
        this.engine = engine;
        int wg = 128;
        while (wg > 1 && wg > engine.device().maxWorkGroupSize()) {
            wg /= 2;
        }
        this.group = wg;
    }

    /** Rows per chunk for a vocabulary of {@code v}. */
    static int chunkRows(long rows, int v) {
        return (int) Math.max(1, Math.min(rows, CHUNK_ELEMENTS / v));
    }

    @Override
    public CrossEntropyResult linearCrossEntropy(CrossEntropyRequest r) {
        ClTensor dW = (ClTensor) r.weightGrad();
        ClTensor db = (ClTensor) r.biasGrad();
        if (dW != null) {
            ClLinear.apart("weightGrad", dW, r.hidden(), r.weight(), r.bias(), r.targets(), db);
        }
        if (db != null) {
            ClLinear.apart("biasGrad", db, r.hidden(), r.weight(), r.bias(), r.targets());
        }
        int rows = Math.toIntExact(r.rows());
        int d = r.hidden().shape().dim(-1);
        int v = r.vocabulary();
        int chunk = chunkRows(rows, v);
        boolean grads = r.wantsGradients();
        String options = "-DCE_WG=" + group + (engine.device().fp64() ? " -DCE_FP64=1" : "");
        synchronized (engine) {
            engine.requireOpen();
            List<ClTensor> made = new ArrayList<>();
            ClTensor logits = null;
            try {
                ClTensor lossSum = add(made, engine.allocate(Shape.of(1), DType.F32));
                ClTensor count = add(made, engine.allocate(Shape.of(1), DType.F32));
                ClTensor perRow = add(made, engine.allocate(r.targets().shape(), DType.F32));
                ClTensor dHidden = r.inputGrad() ? add(made, engine.allocate(r.hidden().shape(), DType.F32)) : null;
                logits = engine.allocate(Shape.of(chunk, v), DType.F32);
                for (int row0 = 0; row0 < rows; row0 += chunk) {
                    int rc = Math.min(chunk, rows - row0);
                    long hOff = (long) row0 * d;
                    engine.gemm().run(ClGemm.Call.of(false, true, rc, v, d, 1f, buf(r.hidden()), hOff, d, buf(r.weight()),
                            0, d, 0f, logits.buffer(), 0, v, r.bias() != null ? buf(r.bias()) : null));
                    new KernelCall(engine.kernel(SOURCE, options, "ce_rows")).mem(logits.buffer()).i(v)
                            .mem(buf(r.targets())).l(row0).i(r.ignoreIndex()).f(r.gradScale()).i(grads ? 1 : 0)
                            .mem(perRow.buffer())
                            .run(engine.queue(), new long[] {(long) rc * group}, new long[] {group});
                    if (dHidden != null) {
                        // dh [rc, d] = g [rc, V] · E [V, d]
                        engine.gemm().run(ClGemm.Call.of(false, false, rc, d, v, 1f, logits.buffer(), 0, v,
                                buf(r.weight()), 0, d, 0f, dHidden.buffer(), hOff, d, null));
                    }
                    if (dW != null) {
                        // dE [V, d] += gᵀ [V, rc] · h [rc, d]
                        engine.gemm().run(ClGemm.Call.of(true, false, v, d, rc, 1f, logits.buffer(), 0, v,
                                buf(r.hidden()), hOff, d, 1f, dW.buffer(), 0, d, null));
                    }
                    if (db != null) {
                        engine.ops().columnSums(logits.buffer(), 0, rc, v, db.buffer());
                    }
                }
                new KernelCall(engine.kernel(SOURCE, options, "ce_total")).mem(perRow.buffer()).mem(buf(r.targets()))
                        .l(rows).i(r.ignoreIndex()).mem(lossSum.buffer()).mem(count.buffer())
                        .run(engine.queue(), new long[] {1}, null);
                if (!r.perTokenLoss()) {
                    made.remove(perRow);
                    perRow.close();
                    perRow = null;
                }
                return new CrossEntropyResult(lossSum, count, dHidden, perRow);
            } catch (RuntimeException e) {
                made.forEach(ClTensor::close);
                throw ClAttention.translate(e, "linear cross-entropy");
            } finally {
                if (logits != null) {
                    logits.close();
                }
            }
        }
    }

    private static ClTensor add(List<ClTensor> made, ClTensor t) {
        made.add(t);
        return t;
    }
}
