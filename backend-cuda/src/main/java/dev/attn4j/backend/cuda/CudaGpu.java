package dev.attn4j.backend.cuda;

import dev.attn4j.ports.DeviceException;
import dev.attn4j.ports.tensor.DType;
import jcuda.Pointer;
import jcuda.cudaDataType;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasStatus;

/**
 * The {@link Gpu} of a real device: a retained primary context ({@link Context}), the PTX modules
 * ({@link Kernels}) and a cuBLAS handle, through JCuda's driver API and JCublas2. Kernels and GEMMs share the
 * context's legacy default stream, so they run in the order they were issued.
 *
 * <p>cuBLAS is optional: JCublas's native library needs {@code libcublas.so.12} (CUDA 12's, as JCuda 12.6 was
 * built against). Where it cannot be loaded or initialised the device still runs every kernel and
 * {@link #blasProblem()} says why; the engine then does not declare the ports that need GEMMs.
 *
 * <p>The handle's math mode forbids reduced-precision reductions, so that a split-K GEMM of F16/BF16 operands
 * adds its partial products in fp32 and only the result is rounded (as the ports' pass rule expects); fp32 GEMMs
 * use {@code CUBLAS_COMPUTE_32F}, which never uses TF32.
 */
final class CudaGpu implements Gpu {
    /** Why JCublas could not be loaded in this JVM (a native library is loaded once), or null. */
    private static volatile String blasLinkFailure;

    private final int ordinal;
    private final Context context;
    private final Kernels kernels;
    private final cublasHandle blas;
    private final String blasProblem;
    private boolean closed;

    private CudaGpu(int ordinal, Context context, Kernels kernels, cublasHandle blas, String blasProblem) {
        this.ordinal = ordinal;
        this.context = context;
        this.kernels = kernels;
        this.blas = blas;
        this.blasProblem = blasProblem;
    }

    /** Retains device {@code ordinal}'s primary context, loads the kernels and creates a cuBLAS handle if it can. */
    static CudaGpu open(int ordinal) {
        Context context = Context.open(ordinal);
        Kernels kernels = null;
        try {
            kernels = Kernels.load(context);
            cublasHandle handle = null;
            String problem = blasLinkFailure;
            if (problem == null) {
                try {
                    JCublas2.setExceptionsEnabled(false);
                    cublasHandle h = new cublasHandle();
                    int status = JCublas2.cublasCreate(h);
                    if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
                        problem = "cublasCreate failed: " + cublasStatus.stringFor(status);
                    } else {
                        handle = h;
                        status = JCublas2.cublasSetMathMode(h, cublasMath.CUBLAS_DEFAULT_MATH
                                | cublasMath.CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION);
                        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
                            JCublas2.cublasDestroy(h);
                            handle = null;
                            problem = "cublasSetMathMode failed: " + cublasStatus.stringFor(status);
                        }
                    }
                } catch (LinkageError e) {
                    problem = "cuBLAS could not be loaded (JCublas needs libcublas.so.12): " + e.getMessage();
                    blasLinkFailure = problem;
                }
            }
            return new CudaGpu(ordinal, context, kernels, handle, problem);
        } catch (RuntimeException e) {
            if (kernels != null) {
                kernels.close();
            }
            context.close();
            throw e;
        }
    }

    /** The JCuda pointer of {@code p} (with its offset), or the null pointer. */
    static CUdeviceptr cu(DevicePointer p) {
        if (p.isNull()) {
            return new CUdeviceptr();
        }
        CUdeviceptr base = (CUdeviceptr) p.allocation();
        return p.byteOffset() == 0 ? base : base.withByteOffset(p.byteOffset());
    }

    @Override
    public String describe() {
        return Driver.describe(ordinal);
    }

    @Override
    public void makeCurrent() {
        context.makeCurrent();
    }

    @Override
    public DevicePointer allocate(long bytes) {
        CUdeviceptr pointer = new CUdeviceptr();
        Driver.check(JCudaDriver.cuMemAlloc(pointer, bytes), "cuMemAlloc " + bytes + " bytes");
        return new DevicePointer(pointer, 0);
    }

    @Override
    public void free(DevicePointer allocation) {
        Driver.check(JCudaDriver.cuMemFree((CUdeviceptr) allocation.allocation()), "cuMemFree");
    }

    @Override
    public void memset(DevicePointer at, int elementBytes, int value, long count) {
        CUdeviceptr p = cu(at);
        int result = switch (elementBytes) {
            case 1 -> JCudaDriver.cuMemsetD8(p, (byte) value, count);
            case 2 -> JCudaDriver.cuMemsetD16(p, (short) value, count);
            case 4 -> JCudaDriver.cuMemsetD32(p, value, count);
            default -> throw new IllegalArgumentException("memset of " + elementBytes + "-byte elements");
        };
        Driver.check(result, "cuMemsetD" + 8 * elementBytes + " " + count + " elements");
    }

    @Override
    public void copyIn(DevicePointer to, Object hostArray, long bytes) {
        Driver.check(JCudaDriver.cuMemcpyHtoD(cu(to), host(hostArray), bytes), "cuMemcpyHtoD " + bytes + " bytes");
    }

    @Override
    public void copyOut(Object hostArray, DevicePointer from, long bytes) {
        Driver.check(JCudaDriver.cuMemcpyDtoH(host(hostArray), cu(from), bytes), "cuMemcpyDtoH " + bytes + " bytes");
    }

    private static Pointer host(Object array) {
        return switch (array) {
            case float[] a -> Pointer.to(a);
            case short[] a -> Pointer.to(a);
            case int[] a -> Pointer.to(a);
            case byte[] a -> Pointer.to(a);
            default -> throw new IllegalArgumentException("not a host array: " + array);
        };
    }

    @Override
    public void launch(String kernel, int sharedBytes, int gridX, int gridY, int gridZ, int threads, Object... args) {
        kernels.launchWithSharedMemory(kernel, sharedBytes, gridX, gridY, gridZ, threads, args);
    }

    @Override
    public String blasProblem() {
        return blas == null ? blasProblem : null;
    }

    @Override
    public void gemm(GemmCall g) {
        if (blas == null) {
            throw new DeviceException(Driver.NAME, "CUBLAS_STATUS_NOT_INITIALIZED", blasProblem);
        }
        Pointer alpha = Pointer.to(new float[] {g.alpha()});
        Pointer beta = Pointer.to(new float[] {g.beta()});
        int ta = g.transA() ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        int tb = g.transB() ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        int ab = dataType(g.abType());
        int c = dataType(g.cType());
        int status;
        if (g.batch() == 1) {
            status = JCublas2.cublasGemmEx_new(blas, ta, tb, g.m(), g.n(), g.k(), alpha, cu(g.a()), ab, g.lda(), cu(g.b()),
                    ab, g.ldb(), beta, cu(g.c()), c, g.ldc(), cublasComputeType.CUBLAS_COMPUTE_32F,
                    cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
        } else {
            status = JCublas2.cublasGemmStridedBatchedEx_new(blas, ta, tb, g.m(), g.n(), g.k(), alpha, cu(g.a()), ab,
                    g.lda(), g.strideA(), cu(g.b()), ab, g.ldb(), g.strideB(), beta, cu(g.c()), c, g.ldc(), g.strideC(),
                    g.batch(), cublasComputeType.CUBLAS_COMPUTE_32F, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
        }
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
            throw new DeviceException(Driver.NAME, cublasStatus.stringFor(status), "cublasGemm" + (g.batch() > 1
                    ? "StridedBatched" : "") + "Ex " + g.m() + "x" + g.n() + "x" + g.k() + " batch " + g.batch() + " "
                    + g.abType() + "->" + g.cType());
        }
    }

    /** cuBLAS's {@code cudaDataType} of a storage type. */
    static int dataType(DType t) {
        return switch (t) {
            case F32 -> cudaDataType.CUDA_R_32F;
            case F16 -> cudaDataType.CUDA_R_16F;
            case BF16 -> cudaDataType.CUDA_R_16BF;
            default -> throw new IllegalArgumentException("no GEMM in " + t);
        };
    }

    @Override
    public void synchronize(String what) {
        context.synchronize(what);
    }

    @Override
    public int sharedMemoryOptIn() {
        return Driver.deviceAttribute(ordinal, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    }

    @Override
    public void setMaxDynamicSharedMemory(String kernel, int bytes) {
        Driver.check(JCudaDriver.cuFuncSetAttribute(kernels.function(kernel),
                CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
                "cuFuncSetAttribute " + kernel + " dynamic shared memory " + bytes);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            context.makeCurrent();
            if (blas != null) {
                JCublas2.cublasDestroy(blas);
            }
            kernels.close();
        } finally {
            context.close();
        }
    }
}
