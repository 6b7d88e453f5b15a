package dev.attn4j.backend.tornado.engine;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.OptimizerPort;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import dev.attn4j.ports.tensor.DeviceTensor;
import dev.attn4j.ports.tensor.Shape;

import static dev.attn4j.backend.tornado.engine.ModelKernels.*;
import static dev.attn4j.backend.tornado.engine.TornadoTensor.at;

/**
 * Fused AdamW and the sums of squares of global-norm clipping on TornadoVM (F32), {@link ModelKernels}.
 *
 * <p>AdamW follows {@code AdamWRequest} ({@code torch.optim.AdamW}): the step's constants are computed once on the
 * host in double ({@code StrictMath.pow}), as PyTorch computes them in Python, then one work item per element
 * updates {@code p, m, v} in fp32. With clipping, each item reads the squared norm from the device accumulator and
 * forms {@code min(1, maxNorm / (√ss + 1e-6))} ({@code clip_grad_norm_}'s formula): no host round trip.
 *
 * <p>{@link #sumOfSquares} is deterministic: at most {@value #MAX_PARTS} contiguous chunks, each summed in order by
 * one item, then one item adds the chunks in order and adds the total to the accumulator once.
 */
final class TornadoOptimizer implements OptimizerPort {
    /** Chunks of the first pass at most. */
    static final int MAX_PARTS = 256;

    private final TornadoEngine engine;
    private final TornadoTensors tensors;

    TornadoOptimizer(TornadoEngine engine, TornadoTensors tensors) {
        this.engine = engine;
        this.tensors = tensors;
    }

    @Override
    public void adamW(AdamWRequest r) {
        DeviceTensor[] all = {r.params(), r.grads(), r.expAvg(), r.expAvgSq()};
        String[] names = {"params", "grads", "expAvg", "expAvgSq"};
        for (int i = 0; i < all.length; i++) {
            for (int j = i + 1; j < all.length; j++) {
                InvalidRequestException.check(!((TornadoTensor) all[i]).overlaps((TornadoTensor) all[j]), names[i],
                        "storage apart from " + names[j] + "'s", "views sharing storage");
            }
        }
        double lr = r.lr();
        double bc1 = 1.0 - StrictMath.pow(r.beta1(), (double) r.step());
        double bc2 = 1.0 - StrictMath.pow(r.beta2(), (double) r.step());
        long n = r.params().shape().elementCount();
        boolean clipping = r.clip() != null;
        synchronized (engine) {
            new HeapCall(engine.heap(), DeviceHeap.Op.ADAMW).set(N, Math.toIntExact(n))
                    .set(A_AT, at(r.params())).set(B_AT, at(r.grads())).set(C_AT, at(r.expAvg()))
                    .set(D_AT, at(r.expAvgSq())).set(I0, clipping ? 1 : 0)
                    .set(I1, clipping ? at(r.clip().sumOfSquares()) : 0)
                    .f(F0, clipping ? r.clip().maxNorm() : 0f).f(F1, (float) (1.0 - lr * r.weightDecay()))
                    .f(F2, r.beta1()).f(F3, (float) (1.0 - r.beta1())).f(F4, r.beta2()).f(F5, (float) (1.0 - r.beta2()))
                    .f(F6, (float) (-lr / bc1)).f(F7, (float) Math.sqrt(bc2)).f(F8, r.eps())
                    .run(64, n);
        }
    }

    @Override
    public void sumOfSquares(SumOfSquaresRequest r) {
        TornadoTensor.apart("accumulator", r.accumulator(), r.x());
        int n = Math.toIntExact(r.x().shape().elementCount());
        // The split depends on n only.
        int chunk = Math.max(1, (n + MAX_PARTS - 1) / MAX_PARTS);
        int parts = (n + chunk - 1) / chunk;
        synchronized (engine) {
            TornadoTensor partial = tensors.allocate(Shape.of(Math.max(1, parts)));
            try {
                DeviceHeap heap = engine.heap();
                new HeapCall(heap, DeviceHeap.Op.SUM_SQUARES).set(A_AT, at(r.x())).set(N, n).set(COLS, chunk)
                        .set(ROWS, parts).set(C_AT, partial.offset()).run(64, parts);
                new HeapCall(heap, DeviceHeap.Op.SUM_INTO).set(C_AT, partial.offset()).set(ROWS, parts)
                        .set(D_AT, at(r.accumulator())).run(1, 1);
            } finally {
                partial.close();
            }
        }
    }
}
