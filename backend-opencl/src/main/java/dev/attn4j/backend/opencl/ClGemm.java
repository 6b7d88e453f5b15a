package dev.attn4j.backend.opencl;

import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import java.util.Locale;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clReleaseMemObject;

/**
 * The engine's GEMM ({@code gemm.cl}), shared by the linear port and the fused cross-entropy:
 * {@code C = alpha·op(A)·op(B) (+ bias) + beta·C} on row-major regions of buffers, optionally a strided batch.
 *
 * <p><b>Shape per device.</b> On a CPU device (POCL) a work-item computes an 8 × 32 block of C in sixteen-float
 * vectors, and both operands are first packed into panels ({@code pack_a}, {@code pack_b}) so that each work-item
 * streams contiguous memory: measured on POCL 3.1 (2 shared vCPUs) this ran 2048³ at about the cpu backend's rate,
 * where the same kernel reading row-major operands in place ran 5-20× slower (8 KiB row strides), and CLBlast
 * (through {@code jocl-blast} 1.5.2, its own tuned kernels) about 30× slower (backend-opencl/README.md). On a GPU a
 * work-item computes 4 × 4 in float4s, in work-groups of 16 × 8, reading A in place (all work-items of a row block
 * read the same A element) and B in place when it is row-major with N a multiple of 4, else packed: not tuned
 * (no device here to tune on), but correct on any OpenCL 1.2 device.
 *
 * <p>Deterministic: each element of C is one fp32 fma chain over the reduction in order (see {@code gemm.cl}).
 * The packing panels are a workspace kept between calls and grown as needed; calls hold the engine's lock.
 */
final class ClGemm implements AutoCloseable {
    private static final String SOURCE = "gemm.cl";

    /**
     * One product on buffers, offsets and strides in elements. {@code op(A)(i, p)} is {@code A[aOff + i·lda + p]},
     * or {@code A[aOff + p·lda + i]} when {@code transA}; likewise B with {@code ldb}; {@code C[i][j] =
     * C[cOff + i·ldc + j]}. Batch entry {@code e} adds {@code e·aBatch} (0: shared), {@code e·bBatch},
     * {@code e·cBatch}. {@code bias} ({@code [n]}) is added to every row, or {@code null}.
     */
    record Call(boolean transA, boolean transB, int m, int n, int k, float alpha, cl_mem a, long aOff, long lda,
                cl_mem b, long bOff, long ldb, float beta, cl_mem c, long cOff, long ldc, int batch, long aBatch,
                long bBatch, long cBatch, cl_mem bias) {

        /** A single product (no batch). */
        static Call of(boolean transA, boolean transB, int m, int n, int k, float alpha, cl_mem a, long aOff, long lda,
                       cl_mem b, long bOff, long ldb, float beta, cl_mem c, long cOff, long ldc, cl_mem bias) {
            return new Call(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, 1, 0, 0, 0,
                    bias);
        }
    }

    /** The register block and work-group of one device. */
    record Blocking(int mr, int vw, int nv, int groupX, int groupY, boolean packA) {
        int nb() {
            return nv * vw;
        }

        String buildOptions() {
            return String.format(Locale.ROOT, "-DMR=%d -DVW=%d -DNV=%d", mr, vw, nv);
        }

        /**
         * The blocking the {@code gemm} option names ({@code cpu} or {@code gpu}: tests run the GPU shape on POCL), or
         * the device's own when it names none.
         */
        static Blocking named(String name, ClDevice device) {
            if (name == null || name.isBlank()) {
                return of(device);
            }
            return switch (name.trim().toLowerCase(Locale.ROOT)) {
                case "cpu" -> cpu();
                case "gpu" -> gpu(device);
                default -> throw new dev.attn4j.ports.InvalidRequestException("gemm", "cpu or gpu", name);
            };
        }

        static Blocking of(ClDevice device) {
            return device.isCpu() ? cpu() : gpu(device);
        }

        private static Blocking cpu() {
            return new Blocking(8, 16, 2, 1, 1, true);
        }

        private static Blocking gpu(ClDevice device) {
            int gx = 16;
            int gy = 8;
            while ((long) gx * gy > device.maxWorkGroupSize() && gy > 1) {
                gy /= 2;
            }
            while ((long) gx * gy > device.maxWorkGroupSize() && gx > 1) {
                gx /= 2;
            }
            return new Blocking(4, 4, 1, gx, gy, false);
        }
    }

    private final OpenClEngine engine;
    private final Blocking blocking;
    private cl_mem packedA;
    private long packedABytes;
    private cl_mem packedB;
    private long packedBBytes;

    ClGemm(OpenClEngine engine, Blocking blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    Blocking blocking() {
        return blocking;
    }

    /** Enqueues the product; the caller holds the engine's lock and has checked sizes and ranges. */
    void run(Call g) {
        if (g.m() == 0 || g.n() == 0 || g.batch() == 0) {
            return;
        }
        String options = blocking.buildOptions();
        if (g.alpha() == 0f) {
            // BLAS: alpha = 0 reads neither A nor B (NaN there must not reach C).
            new KernelCall(engine.kernel(SOURCE, options, "scale_c")).i(g.m()).i(g.n()).f(g.beta()).mem(g.c())
                    .l(g.cOff()).l(g.cBatch()).l(g.ldc())
                    .run(engine.queue(), new long[] {g.n(), g.m(), g.batch()}, null);
            return;
        }
        int mr = blocking.mr();
        int nb = blocking.nb();
        long mBlocks = ceilDiv(g.m(), mr);
        long nBlocks = ceilDiv(g.n(), nb);
        // op(A)(i, p) = A[off + i·sRow + p·sStep]
        long aRowStride = g.transA() ? 1 : g.lda();
        long aStepStride = g.transA() ? g.lda() : 1;
        cl_mem a = g.a();
        long aOff = g.aOff();
        long aBatch = g.aBatch();
        long aBlock;
        long aRow;
        long aStep;
        if (blocking.packA() && g.m() > mr) {
            int entries = g.aBatch() == 0 ? 1 : g.batch();
            long size = Math.multiplyExact(Math.multiplyExact(mBlocks * mr, (long) g.k()), entries);
            cl_mem out = workspaceA(size * Sizeof.cl_float);
            new KernelCall(engine.kernel(SOURCE, options, "pack_a")).i(g.m()).i(g.k()).mem(g.a()).l(g.aOff())
                    .l(g.aBatch()).l(aRowStride).l(aStepStride).mem(out)
                    .run(engine.queue(), new long[] {g.k(), mBlocks, entries}, null);
            a = out;
            aOff = 0;
            aBatch = g.aBatch() == 0 ? 0 : mBlocks * mr * g.k();
            aBlock = (long) g.k() * mr;
            aRow = 1;
            aStep = mr;
        } else {
            aBlock = mr * aRowStride;
            aRow = aRowStride;
            aStep = aStepStride;
        }
        cl_mem b = g.b();
        long bOff = g.bOff();
        long bBatch = g.bBatch();
        long bBlock;
        long bStep;
        boolean inPlace = !g.transB() && g.n() % nb == 0 && !(blocking.packA() && g.m() > mr);
        if (inPlace) {
            bBlock = nb;
            bStep = g.ldb();
        } else {
            int entries = g.bBatch() == 0 ? 1 : g.batch();
            long size = Math.multiplyExact(Math.multiplyExact(nBlocks * nb, (long) g.k()), entries);
            cl_mem out = workspaceB(size * Sizeof.cl_float);
            new KernelCall(engine.kernel(SOURCE, options, "pack_b")).i(g.n()).i(g.k()).mem(g.b()).l(g.bOff())
                    .l(g.bBatch()).l(g.transB() ? 1 : g.ldb()).l(g.transB() ? g.ldb() : 1).mem(out)
                    .run(engine.queue(), new long[] {g.k(), nBlocks, entries}, null);
            b = out;
            bOff = 0;
            bBatch = g.bBatch() == 0 ? 0 : nBlocks * nb * g.k();
            bBlock = (long) g.k() * nb;
            bStep = nb;
        }
        cl_kernel kernel = engine.kernel(SOURCE, options, "gemm");
        // Consecutive work-items share one operand's panel (kept in cache) and stream the other's: on a CPU device the
        // streamed one is re-read once per block of the shared one, so it should be the smaller (it then stays in
        // the last-level cache). Rows first (share B, stream A) unless A is the larger; GPUs always rows first.
        boolean rowsFirst = !blocking.packA() || (long) g.m() <= g.n();
        long gx = roundUp(rowsFirst ? mBlocks : nBlocks, blocking.groupX());
        long gy = roundUp(rowsFirst ? nBlocks : mBlocks, blocking.groupY());
        new KernelCall(kernel).i(g.m()).i(g.n()).i(g.k()).f(g.alpha())
                .mem(a).l(aOff).l(aBatch).l(aBlock).l(aRow).l(aStep)
                .mem(b).l(bOff).l(bBatch).l(bBlock).l(bStep)
                .f(g.beta()).mem(g.c()).l(g.cOff()).l(g.cBatch()).l(g.ldc())
                .mem(g.bias() != null ? g.bias() : engine.placeholder()).i(g.bias() != null ? 1 : 0).i(rowsFirst ? 1 : 0)
                .run(engine.queue(), new long[] {gx, gy, g.batch()}, new long[] {blocking.groupX(), blocking.groupY(), 1});
    }

    private cl_mem workspaceA(long bytes) {
        if (packedA == null || packedABytes < bytes) {
            release(packedA);
            packedA = null;
            packedA = clCreateBuffer(engine.context(), CL_MEM_READ_WRITE, bytes, null, null);
            packedABytes = bytes;
        }
        return packedA;
    }

    private cl_mem workspaceB(long bytes) {
        if (packedB == null || packedBBytes < bytes) {
            release(packedB);
            packedB = null;
            packedB = clCreateBuffer(engine.context(), CL_MEM_READ_WRITE, bytes, null, null);
            packedBBytes = bytes;
        }
        return packedB;
    }

    private static void release(cl_mem m) {
        if (m != null) {
            clReleaseMemObject(m);
        }
    }

    /** Bytes of packing workspace held (for tests). */
    long workspaceBytes() {
        return (packedA == null ? 0 : packedABytes) + (packedB == null ? 0 : packedBBytes);
    }

    /** Releases the workspace (the engine closes it with everything else). */
    @Override
    public void close() {
        try {
            release(packedA);
        } finally {
            packedA = null;
            try {
                release(packedB);
            } finally {
                packedB = null;
            }
        }
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    static long roundUp(long a, long b) {
        return ceilDiv(a, b) * b;
    }
}
