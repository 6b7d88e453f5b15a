package dev.attn4j.backend.cuda;

import dev.attn4j.ports.tensor.DType;
import dev.attn4j.ports.tensor.HalfFloats;

/**
 * A reference for {@code cublasGemmStridedBatchedEx}, written from cuBLAS's documentation: column-major operands,
 * element {@code (i, j)} of a stored matrix at {@code i + j·ld}, {@code op(X)} transposing when asked, product
 * {@code p} of the batch at {@code p·stride}. It replays a {@link GemmCall} on host arrays, so the tests can check
 * the calls the engine plans — operand order, leading dimensions, transposes, offsets, strides — against the
 * float64 oracle without a GPU.
 *
 * <pre>{@code
 * HostGemm.run(call, memory::get, HostGemm.Arithmetic.FLOAT64);
 * }</pre>
 */
final class HostGemm {

    /** How the replay computes. */
    enum Arithmetic {
        /** Products and sums in double, nothing rounded: checks the call's arguments, not precision. */
        FLOAT64,
        /** As cuBLAS with {@code CUBLAS_COMPUTE_32F}: fp32 fused multiply-adds, the result rounded to C's type. */
        FLOAT32
    }

    /** Host memory of one allocation: its elements as doubles, indexed by element (of the call's type). */
    interface Memory {
        /** {@return the buffer holding {@code pointer}'s allocation} */
        double[] buffer(DevicePointer pointer);
    }

    private HostGemm() {
    }

    /** Runs {@code g} on the buffers {@code memory} hands out; C's buffer is updated in place. */
    static void run(GemmCall g, Memory memory, Arithmetic arithmetic) {
        double[] a = memory.buffer(g.a());
        double[] b = memory.buffer(g.b());
        double[] c = memory.buffer(g.c());
        long a0 = element(g.a(), g.abType());
        long b0 = element(g.b(), g.abType());
        long c0 = element(g.c(), g.cType());
        for (int p = 0; p < g.batch(); p++) {
            for (int j = 0; j < g.n(); j++) {
                for (int i = 0; i < g.m(); i++) {
                    double dot = 0;
                    float dotF = 0;
                    for (int x = 0; x < g.k(); x++) {
                        // op(A)(i, x) and op(B)(x, j)
                        long ai = a0 + p * g.strideA() + (g.transA() ? x + (long) i * g.lda() : i + (long) x * g.lda());
                        long bi = b0 + p * g.strideB() + (g.transB() ? j + (long) x * g.ldb() : x + (long) j * g.ldb());
                        double av = a[Math.toIntExact(ai)];
                        double bv = b[Math.toIntExact(bi)];
                        if (arithmetic == Arithmetic.FLOAT64) {
                            dot += av * bv;
                        } else {
                            dotF = Math.fma((float) av, (float) bv, dotF);
                        }
                    }
                    int ci = Math.toIntExact(c0 + p * g.strideC() + i + (long) j * g.ldc());
                    if (arithmetic == Arithmetic.FLOAT64) {
                        c[ci] = g.alpha() * dot + (g.beta() == 0 ? 0 : g.beta() * c[ci]);
                    } else {
                        float v = g.alpha() * dotF;
                        if (g.beta() != 0) {
                            v = Math.fma(g.beta(), (float) c[ci], v);
                        }
                        c[ci] = round(v, g.cType());
                    }
                }
            }
        }
    }

    /** {@code pointer}'s element index in its allocation, for elements of {@code type}. */
    static long element(DevicePointer pointer, DType type) {
        if (pointer.byteOffset() % type.byteSize() != 0) {
            throw new AssertionError("GEMM operand at byte " + pointer.byteOffset() + ", not aligned to " + type);
        }
        return pointer.byteOffset() / type.byteSize();
    }

    /** {@code v} rounded to {@code type}. */
    static double round(float v, DType type) {
        return switch (type) {
            case F32 -> v;
            case F16, BF16 -> HalfFloats.from(type, HalfFloats.to(type, v));
            default -> throw new IllegalArgumentException("no GEMM in " + type);
        };
    }

    /** The elements a column-major operand of {@code rows × cols} (stored) with {@code ld} spans from its start. */
    static long extent(int rows, int cols, int ld) {
        return (long) (cols - 1) * ld + rows;
    }

    /** The elements each operand of {@code g} spans, batch included: {@code {A, B, C}}. */
    static long[] extents(GemmCall g) {
        long a = extent(g.transA() ? g.k() : g.m(), g.transA() ? g.m() : g.k(), g.lda()) + (g.batch() - 1L) * g.strideA();
        long b = extent(g.transB() ? g.n() : g.k(), g.transB() ? g.k() : g.n(), g.ldb()) + (g.batch() - 1L) * g.strideB();
        long c = extent(g.m(), g.n(), g.ldc()) + (g.batch() - 1L) * g.strideC();
        return new long[] {a, b, c};
    }
}
