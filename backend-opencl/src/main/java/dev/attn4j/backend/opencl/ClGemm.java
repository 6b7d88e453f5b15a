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
 * streams contiguous memory; consecutive work-items share the larger operand's panel and re-read the smaller one,
 * which then stays in the last-level cache. Measured on POCL 3.1 (2 shared vCPUs, backend-opencl/README.md and
 * docs/benchmarks.md): about the cpu backend's rate on the model's shapes, where the kernel reading row-major
 * operands in place fell to a few GFLOP/s at 2048³ (rows 8 KiB apart) and CLBlast ({@code jocl-blast} 1.5.2, its
 * own kernels) ran 3-5 GFLOP/s. On a GPU a work-item computes 4 × 4 in float4s, in work-groups of 16 × 8, reading A
 * in place and B in place when it is row-major with N a multiple of 4, else packed: not tuned (no GPU here to tune
 * on), but correct on any OpenCL 1.2 device, and tested on POCL through the {@code gemm=gpu} option.
 *
 * <p>Deterministic: each element of C is one fp32 fma chain over the reduction in order (see {@code gemm.cl}).
 * The packing panels are a workspace kept between calls and grown as needed; calls hold the engine's lock.
 */
final class ClGemm implements AutoCloseable {
    private static final String SOURCE = "gemm.cl";
    /** Bytes of packed panels a band keeps in cache on a CPU device: half of a 1 MiB L2. */
    static final long CACHE_BYTES = 512 * 1024;
    /**
     * Work-items per work-group on a CPU device: POCL keeps a group's private state in one stack frame, so it must
     * stay small (16 × about 3 KiB of accumulators), while still amortising the group's start.
     */
    static final int CPU_GROUP = 16;
    /** Reduction steps per chunk on a CPU device (a 32-column panel of 512 steps is 64 KiB). */
    static final int KC = 512;

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
    private cl_mem partialC;
    private long partialCBytes;

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
        // CPU devices: the reduction in chunks of KC steps when it is long, so that the panels a band keeps and the
        // ones passing fit the caches; each chunk continues the previous one's raw sums (exact), so every element is
        // still one fma chain in order. With beta = 0 the raw sums live in C itself, else in a workspace.
        int chunk = blocking.packA() && g.k() > 2 * KC ? KC : g.k();
        cl_mem partial = engine.placeholder();
        long pOff = 0;
        long pBatch = 0;
        long ldp = 0;
        if (chunk < g.k()) {
            if (g.beta() == 0f) {
                partial = g.c();
                pOff = g.cOff();
                pBatch = g.cBatch();
                ldp = g.ldc();
            } else {
                partial = workspaceC(Math.multiplyExact(Math.multiplyExact((long) g.m(), g.n()), g.batch()) * Sizeof.cl_float);
                pBatch = (long) g.m() * g.n();
                ldp = g.n();
            }
        }
        int band = 0;
        long[] global;
        long[] local;
        if (blocking.packA()) {
            // Bands of panels that fit CACHE_BYTES stay in cache while the other operand's panels pass; the band runs
            // along the larger operand, so the smaller one is the one re-read (once per band).
            boolean rowBands = g.n() <= g.m();
            long panel = (long) chunk * Float.BYTES * (rowBands ? mr : nb);
            band = (int) Math.max(1, Math.min(rowBands ? mBlocks : nBlocks, CACHE_BYTES / panel));
            band = rowBands ? band : -band;
            // An explicit work-group size: left to POCL, it chose groups of thousands of work-items (3297 for
            // 838×5000×8), and its work-group function keeps every work-item's accumulators in one stack frame
            // (about 3 KiB each), 10 MiB here: past the 8 MiB of a POCL thread's stack, into whatever lay below it
            // (a crash in the kernel, or silently another thread's stack and a JVM crash later).
            global = new long[] {roundUp(mBlocks * nBlocks, CPU_GROUP), 1, g.batch()};
            local = new long[] {CPU_GROUP, 1, 1};
        } else {
            global = new long[] {roundUp(mBlocks, blocking.groupX()), roundUp(nBlocks, blocking.groupY()), g.batch()};
            local = new long[] {blocking.groupX(), blocking.groupY(), 1};
        }
        for (int p0 = 0; p0 < g.k(); p0 += chunk) {
            int p1 = Math.min(g.k(), p0 + chunk);
            int phase = (p0 > 0 ? 1 : 0) | (p1 == g.k() ? 2 : 0);
            new KernelCall(kernel).i(g.m()).i(g.n()).i(g.k()).f(g.alpha())
                    .mem(a).l(aOff).l(aBatch).l(aBlock).l(aRow).l(aStep)
                    .mem(b).l(bOff).l(bBatch).l(bBlock).l(bStep)
                    .f(g.beta()).mem(g.c()).l(g.cOff()).l(g.cBatch()).l(g.ldc())
                    .mem(g.bias() != null ? g.bias() : engine.placeholder()).i(g.bias() != null ? 1 : 0).i(band)
                    .i(p0).i(p1).i(phase).mem(partial).l(pOff).l(pBatch).l(ldp)
                    .run(engine.queue(), global, local);
        }
    }

    private cl_mem workspaceC(long bytes) {
        if (partialC == null || partialCBytes < bytes) {
            release(partialC);
            partialC = null;
            partialC = clCreateBuffer(engine.context(), CL_MEM_READ_WRITE, bytes, null, null);
            partialCBytes = bytes;
        }
        return partialC;
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
        return (packedA == null ? 0 : packedABytes) + (packedB == null ? 0 : packedBBytes)
                + (partialC == null ? 0 : partialCBytes);
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
                try {
                    release(partialC);
                } finally {
                    partialC = null;
                }
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
