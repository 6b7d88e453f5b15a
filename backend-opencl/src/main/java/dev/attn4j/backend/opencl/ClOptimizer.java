package dev.attn4j.backend.opencl;

import dev.attn4j.ports.InvalidRequestException;
import dev.attn4j.ports.optim.AdamWRequest;
import dev.attn4j.ports.optim.OptimizerPort;
import dev.attn4j.ports.optim.SumOfSquaresRequest;
import org.jocl.Sizeof;
import org.jocl.cl_mem;

import static dev.attn4j.backend.opencl.ClAttention.buf;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clReleaseMemObject;

/**
 * Fused AdamW and the sums of squares of global-norm clipping, on OpenCL (F32), {@code ops.cl}.
 *
 * <p>AdamW follows {@code AdamWRequest} ({@code torch.optim.AdamW}): the step's constants are computed once on the host
 * in double ({@code StrictMath.pow}), as PyTorch computes them in Python, then one work-item per element updates
 * {@code p, m, v} in fp32. With clipping, each work-item reads the squared norm from the device accumulator and forms
 * {@code min(1, maxNorm / (√ss + 1e-6))} in fp32 ({@code clip_grad_norm_}'s formula): no host round trip.
 *
 * <p>{@link #sumOfSquares} is deterministic: fixed chunks per work-group, each a fixed tree, then one work-item adds
 * the chunks in order and adds the total to the accumulator once.
 */
final class ClOptimizer implements OptimizerPort {
    /** Work-groups of the first pass at most: each sums a contiguous chunk. */
    private static final int MAX_GROUPS = 256;

    private final OpenClEngine engine;

    ClOptimizer(OpenClEngine engine) {
        this.engine = engine;
    }

    @Override
    public void adamW(AdamWRequest r) {
        ClTensor[] all = {(ClTensor) r.params(), (ClTensor) r.grads(), (ClTensor) r.expAvg(), (ClTensor) r.expAvgSq()};
        String[] names = {"params", "grads", "expAvg", "expAvgSq"};
        for (int i = 0; i < all.length; i++) {
            for (int j = i + 1; j < all.length; j++) {
                InvalidRequestException.check(!all[i].overlaps(all[j]), names[i], "storage apart from " + names[j] + "'s",
                        "views sharing storage");
            }
        }
        double lr = r.lr();
        double bc1 = 1.0 - StrictMath.pow(r.beta1(), (double) r.step());
        double bc2 = 1.0 - StrictMath.pow(r.beta2(), (double) r.step());
        long n = r.params().shape().elementCount();
        synchronized (engine) {
            engine.requireOpen();
            try {
                engine.ops().run(engine.ops().call("adamw").mem(all[0].buffer()).mem(all[1].buffer()).mem(all[2].buffer())
                        .mem(all[3].buffer()).l(n).i(r.clip() != null ? 1 : 0)
                        .mem(r.clip() != null ? buf(r.clip().sumOfSquares()) : engine.placeholder())
                        .f(r.clip() != null ? r.clip().maxNorm() : 0f).f((float) (1.0 - lr * r.weightDecay()))
                        .f(r.beta1()).f((float) (1.0 - r.beta1())).f(r.beta2()).f((float) (1.0 - r.beta2()))
                        .f((float) (-lr / bc1)).f((float) Math.sqrt(bc2)).f(r.eps()), n);
            } catch (RuntimeException e) {
                throw ClAttention.translate(e, "AdamW");
            }
        }
    }

    @Override
    public void sumOfSquares(SumOfSquaresRequest r) {
        ClLinear.apart("accumulator", (ClTensor) r.accumulator(), r.x());
        long n = r.x().shape().elementCount();
        int wg = engine.ops().sumGroup();
        // Chunks of whole groups' strides; the split depends on n and the device only.
        long chunk = Math.max(wg, ClGemm.roundUp(ClGemm.ceilDiv(n, MAX_GROUPS), wg));
        int groups = Math.toIntExact(ClGemm.ceilDiv(n, chunk));
        synchronized (engine) {
            engine.requireOpen();
            cl_mem partial = clCreateBuffer(engine.context(), CL_MEM_READ_WRITE, (long) groups * Sizeof.cl_float, null, null);
            try {
                engine.ops().call("sumsq_partial").mem(buf(r.x())).l(n).l(chunk).mem(partial)
                        .run(engine.queue(), new long[] {(long) groups * wg}, new long[] {wg});
                engine.ops().call("sum_into").mem(partial).i(groups).mem(buf(r.accumulator()))
                        .run(engine.queue(), new long[] {1}, null);
            } catch (RuntimeException e) {
                throw ClAttention.translate(e, "sum of squares");
            } finally {
                // OpenCL keeps a released buffer alive until the queued kernels using it have run.
                clReleaseMemObject(partial);
            }
        }
    }
}
