package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.loss.CrossEntropyRequest;
import dev.attn4j.ports.loss.CrossEntropyResult;
import dev.attn4j.ports.loss.LossPort;
import dev.attn4j.ports.tensor.Shape;

import static dev.attn4j.backend.tornado.engine.ModelKernels.*;
import static dev.attn4j.backend.tornado.engine.TornadoTensor.at;

/**
 * Fused linear cross-entropy on TornadoVM (F32), Liger-Kernel's scheme: the rows go through in chunks, so the
 * {@code [rows, V]} logits never exist whole. Per chunk, all in the device heap: the logits {@code h·Eᵀ + b} (a
 * {@link TornadoGemm} with the bias in its epilogue), {@link ModelKernels#ceRows}' per-row max, sum, loss and the
 * gradient {@code g = gradScale·(softmax − onehot)} written over the logits in place, then {@code dh = g·E},
 * {@code dE += gᵀ·h} (a GEMM with {@code beta = 1}) and {@code db += Σ_rows g} (column sums in row order). The loss
 * sum and the count are added in row order at the end ({@link ModelKernels#ceTotal}). Every step is
 * deterministic; the chunk size depends on {@code V} only, so the order of the accumulations into {@code dE},
 * {@code db} is fixed for a given request.
 */
final class TornadoLoss implements LossPort {
    /**
     * Logits per chunk at most (4 MiB of fp32): chunk rows = this / V, at least one. A quarter of the default
     * heap, so that a chunk seldom makes the heap grow (which recompiles the kernels).
     */
    static final long CHUNK_ELEMENTS = 1L << 20;

    private final TornadoEngine engine;
    private final TornadoTensors tensors;

    TornadoLoss(TornadoEngine engine, TornadoTensors tensors) {
        this.engine = engine;
        this.tensors = tensors;
    }

    /** Rows per chunk for a vocabulary of {@code v}. */
    static int chunkRows(long rows, int v) {
        return (int) Math.max(1, Math.min(rows, CHUNK_ELEMENTS / Math.max(1, v)));
    }

    @Override
    public CrossEntropyResult linearCrossEntropy(CrossEntropyRequest r) {
        TornadoTensor.apart("weightGrad", r.weightGrad(), r.hidden(), r.weight(), r.bias(), r.biasGrad());
        TornadoTensor.apart("biasGrad", r.biasGrad(), r.hidden(), r.weight(), r.bias());
        int rows = Math.toIntExact(r.rows());
        int d = r.hidden().shape().dim(-1);
        int v = r.vocabulary();
        int chunk = chunkRows(rows, v);
        boolean grads = r.wantsGradients();
        synchronized (engine) {
            Made made = new Made();
            TornadoTensor logits = null;
            try {
                // Every block first: a heap that grows replaces the plan (and the meta arrays the launches fill).
                TornadoTensor lossSum = made.add(tensors.allocate(Shape.of(1)));
                TornadoTensor count = made.add(tensors.allocate(Shape.of(1)));
                TornadoTensor perRow = made.add(tensors.allocate(r.targets().shape()));
                TornadoTensor dHidden = r.inputGrad() ? made.add(tensors.allocate(r.hidden().shape())) : null;
                logits = tensors.allocate(Shape.of(chunk, v));
                DeviceHeap heap = engine.heap();
                int hidden = at(r.hidden());
                int weight = at(r.weight());
                int z = logits.offset();
                for (int row0 = 0; row0 < rows; row0 += chunk) {
                    int rc = Math.min(chunk, rows - row0);
                    int hAt = hidden + Math.multiplyExact(row0, d);
                    // z [rc, V] = h [rc, d] · Eᵀ (+ b)
                    TornadoGemm.run(heap, false, true, rc, v, d, 1f, hAt, d, weight, d, 0f, z, v, 1, 0, 0, 0,
                            r.bias() != null ? at(r.bias()) : TornadoGemm.NO_BIAS);
                    new HeapCall(heap, DeviceHeap.Op.CE_ROWS).set(A_AT, z).set(B_AT, at(r.targets()))
                            .set(C_AT, perRow.offset()).set(ROWS, rc).set(COLS, v).set(I0, row0)
                            .set(I1, r.ignoreIndex()).set(MODE, grads ? 1 : 0).f(F0, r.gradScale()).run(16, rc);
                    if (dHidden != null) {
                        // dh [rc, d] = g [rc, V] · E [V, d]
                        TornadoGemm.run(heap, false, false, rc, d, v, 1f, z, v, weight, d, 0f,
                                dHidden.offset() + Math.multiplyExact(row0, d), d, 1, 0, 0, 0, TornadoGemm.NO_BIAS);
                    }
                    if (r.weightGrad() != null) {
                        // dE [V, d] += gᵀ [V, rc] · h [rc, d]
                        TornadoGemm.run(heap, true, false, v, d, rc, 1f, z, v, hAt, d, 1f, at(r.weightGrad()), d, 1,
                                0, 0, 0, TornadoGemm.NO_BIAS);
                    }
                    if (r.biasGrad() != null) {
                        TornadoLinear.columnSums(heap, z, rc, v, at(r.biasGrad()));
                    }
                }
                new HeapCall(heap, DeviceHeap.Op.CE_TOTAL).set(A_AT, perRow.offset()).set(B_AT, at(r.targets()))
                        .set(ROWS, rows).set(I1, r.ignoreIndex()).set(C_AT, lossSum.offset())
                        .set(D_AT, count.offset()).run(1, 1);
                if (!r.perTokenLoss()) {
                    perRow.close();
                    perRow = null;
                }
                return new CrossEntropyResult(lossSum, count, dHidden, perRow);
            } catch (RuntimeException | Error e) {
                made.closeAll();
                throw e;
            } finally {
                if (logits != null) {
                    logits.close();
                }
            }
        }
    }
}
