package dev.attn4j.backend.opencl;

import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * Launches {@code ops.cl}'s kernels for the model ports: the build options (fp64 or a correctly rounded sqrt for
 * AdamW, the sum-of-squares work-group) and the ranges. Callers hold the engine's lock.
 */
final class ClOps {
    static final String SOURCE = "philox.cl+ops.cl";
    /** Work-items per group of the element-wise kernels' ranges (the range is rounded up to it). */
    private static final long GROUP = 64;

    private final OpenClEngine engine;
    private final String options;
    private final int sumGroup;

    ClOps(OpenClEngine engine) {
        this.engine = engine;
        ClDevice d = engine.device();
        int wg = 128;
        while (wg > 1 && wg > d.maxWorkGroupSize()) {
            wg /= 2;
        }
        this.sumGroup = wg;
        this.options = "-DSUM_WG=" + wg + (d.fp64() ? " -DOPS_FP64=1" : "")
                + (d.exactDivideSqrt() ? " -cl-fp32-correctly-rounded-divide-sqrt" : "");
    }

    KernelCall call(String kernel) {
        return new KernelCall(kernelNamed(kernel));
    }

    cl_kernel kernelNamed(String kernel) {
        return engine.kernel(SOURCE, options, kernel);
    }

    /** Runs {@code call} over {@code n} work-items (rounded up to a group; kernels test their index). */
    void run(KernelCall call, long n) {
        call.run(engine.queue(), new long[] {Math.max(1, ClGemm.ceilDiv(n, GROUP)) * GROUP}, null);
    }

    /** {@code sum[c] += Σ_r x[xOff + r·cols + c]} for {@code c < cols}, rows in order. */
    void columnSums(cl_mem x, long xOff, int rows, int cols, cl_mem sum) {
        run(call("column_sums").mem(x).l(xOff).i(rows).i(cols).mem(sum), cols);
    }

    /** Work-items per group of the sum of squares' first pass. */
    int sumGroup() {
        return sumGroup;
    }
}
