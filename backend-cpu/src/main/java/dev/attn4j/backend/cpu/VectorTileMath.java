package dev.attn4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Vector API twin of {@link ScalarTileMath}. Only loaded when {@link Simd#available()}.
 *
 * <p>Only exactly specified lane operations are used (add, mul, fma, max, conversions), and sums across lanes
 * go in a fixed order, so results do not depend on whether the JIT has compiled the code yet — the
 * Vector API's {@code EXP} and {@code reduceLanes(ADD)} give no such promise. See {@link Exp}.
 *
 * <p>{@link #gemm} is register-blocked 6 rows × 4 vectors with AVX-512 (24 accumulators, 4 loads of B and
 * 6 broadcasts of A per step of the reduction, which keeps the FMA units busier than the load ports), 4 × 4
 * with AVX2's 16 registers. A 6-row block's last 1-3 vectors of columns are 6 × 1-3 blocks, not one chain per
 * vector and row. Each element of C is one fma chain over the reduction in index order, whatever block
 * computes it, so the blocking never changes the bits (and {@link ScalarTileMath} gives the same ones).
 */
final class VectorTileMath implements TileMath {
    static final VectorTileMath INSTANCE = new VectorTileMath();
    // The preferred species (16 floats with AVX-512, 8 with AVX2) always divides LANES, the padding unit.
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.length() <= TileMath.LANES
            ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_512;
    private static final int L = F.length();
    /** 6-row blocks (24 accumulators) need the 32 vector registers of AVX-512; AVX2 has 16. */
    private static final boolean SIX_ROWS = L == 16 && !Boolean.getBoolean("attn4j.cpu.fourRowBlocks");

    private VectorTileMath() {
    }

    /** The species every vector kernel of this backend uses ({@link #exp} builds its constants in it). */
    static VectorSpecies<Float> species() {
        return F;
    }

    /** Width of the vectors used, in bits. */
    static int bitSize() {
        return F.vectorBitSize();
    }

    @Override
    public void gemm(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
                     float[] c, int cOff, int ldc, int m, int n, int k, boolean accumulate) {
        int i = 0;
        if (SIX_ROWS) {
            for (; i + 6 <= m; i += 6) {
                int j = 0;
                for (; j + 4 * L <= n; j += 4 * L) {
                    block6x4(a, aOff + i * ars, ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, k, accumulate);
                }
                // The last 1-3 vectors of columns as one 6-row block too: its 6-18 independent fma chains keep
                // the FMA pipes busy where 1-vector blocks would each wait on the latency of every fma.
                int a0 = aOff + i * ars;
                int c0 = cOff + i * ldc + j;
                switch ((n - j) / L) {
                    case 3 -> block6x3(a, a0, ars, acs, b, bOff + j, ldb, c, c0, ldc, k, accumulate);
                    case 2 -> block6x2(a, a0, ars, acs, b, bOff + j, ldb, c, c0, ldc, k, accumulate);
                    case 1 -> block6x1(a, a0, ars, acs, b, bOff + j, ldb, c, c0, ldc, k, accumulate);
                    default -> { }
                }
            }
        }
        for (; i + 4 <= m; i += 4) {
            int j = 0;
            for (; j + 4 * L <= n; j += 4 * L) {
                block4x4(a, aOff + i * ars, ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, k, accumulate);
            }
            for (; j < n; j += L) {
                block4x1(a, aOff + i * ars, ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, k, accumulate);
            }
        }
        // The last 1-3 rows: 4 vectors wide, so that each row still has 4 independent fma chains (one chain per
        // vector waits out every fma's latency: a 2-row remainder of 512-row blocks took 8% of the fused
        // cross-entropy's time).
        for (; i + 2 <= m; i += 2) {
            int j = 0;
            for (; j + 4 * L <= n; j += 4 * L) {
                block2x4(a, aOff + i * ars, ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, k, accumulate);
            }
            for (; j < n; j += L) {
                block1x1(a, aOff + i * ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, k, accumulate);
                block1x1(a, aOff + (i + 1) * ars, acs, b, bOff + j, ldb, c, cOff + (i + 1) * ldc + j, k, accumulate);
            }
        }
        for (; i < m; i++) {
            int j = 0;
            for (; j + 4 * L <= n; j += 4 * L) {
                block1x4(a, aOff + i * ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, k, accumulate);
            }
            for (; j < n; j += L) {
                block1x1(a, aOff + i * ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, k, accumulate);
            }
        }
    }

    private static void block4x4(float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean acc) {
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
        int r1 = c0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        if (acc) {
            c00 = FloatVector.fromArray(F, c, c0); c01 = FloatVector.fromArray(F, c, c0 + L);
            c02 = FloatVector.fromArray(F, c, c0 + 2 * L); c03 = FloatVector.fromArray(F, c, c0 + 3 * L);
            c10 = FloatVector.fromArray(F, c, r1); c11 = FloatVector.fromArray(F, c, r1 + L);
            c12 = FloatVector.fromArray(F, c, r1 + 2 * L); c13 = FloatVector.fromArray(F, c, r1 + 3 * L);
            c20 = FloatVector.fromArray(F, c, r2); c21 = FloatVector.fromArray(F, c, r2 + L);
            c22 = FloatVector.fromArray(F, c, r2 + 2 * L); c23 = FloatVector.fromArray(F, c, r2 + 3 * L);
            c30 = FloatVector.fromArray(F, c, r3); c31 = FloatVector.fromArray(F, c, r3 + L);
            c32 = FloatVector.fromArray(F, c, r3 + 2 * L); c33 = FloatVector.fromArray(F, c, r3 + 3 * L);
        } else {
            FloatVector z = FloatVector.zero(F);
            c00 = z; c01 = z; c02 = z; c03 = z; c10 = z; c11 = z; c12 = z; c13 = z;
            c20 = z; c21 = z; c22 = z; c23 = z; c30 = z; c31 = z; c32 = z; c33 = z;
        }
        int ai = a0;
        int bp = b0;
        for (int p = 0; p < k; p++, ai += acs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(F, b, bp);
            FloatVector b1v = FloatVector.fromArray(F, b, bp + L);
            FloatVector b2v = FloatVector.fromArray(F, b, bp + 2 * L);
            FloatVector b3v = FloatVector.fromArray(F, b, bp + 3 * L);
            FloatVector av = FloatVector.broadcast(F, a[ai]);
            c00 = av.fma(b0v, c00); c01 = av.fma(b1v, c01); c02 = av.fma(b2v, c02); c03 = av.fma(b3v, c03);
            av = FloatVector.broadcast(F, a[ai + ars]);
            c10 = av.fma(b0v, c10); c11 = av.fma(b1v, c11); c12 = av.fma(b2v, c12); c13 = av.fma(b3v, c13);
            av = FloatVector.broadcast(F, a[ai + 2 * ars]);
            c20 = av.fma(b0v, c20); c21 = av.fma(b1v, c21); c22 = av.fma(b2v, c22); c23 = av.fma(b3v, c23);
            av = FloatVector.broadcast(F, a[ai + 3 * ars]);
            c30 = av.fma(b0v, c30); c31 = av.fma(b1v, c31); c32 = av.fma(b2v, c32); c33 = av.fma(b3v, c33);
        }
        c00.intoArray(c, c0); c01.intoArray(c, c0 + L); c02.intoArray(c, c0 + 2 * L); c03.intoArray(c, c0 + 3 * L);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + L); c12.intoArray(c, r1 + 2 * L); c13.intoArray(c, r1 + 3 * L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L); c22.intoArray(c, r2 + 2 * L); c23.intoArray(c, r2 + 3 * L);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + L); c32.intoArray(c, r3 + 2 * L); c33.intoArray(c, r3 + 3 * L);
    }

    private static void block6x4(float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean acc) {
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23;
        FloatVector c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53;
        int r1 = c0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc;
        if (acc) {
            c00 = FloatVector.fromArray(F, c, c0); c01 = FloatVector.fromArray(F, c, c0 + L);
            c02 = FloatVector.fromArray(F, c, c0 + 2 * L); c03 = FloatVector.fromArray(F, c, c0 + 3 * L);
            c10 = FloatVector.fromArray(F, c, r1); c11 = FloatVector.fromArray(F, c, r1 + L);
            c12 = FloatVector.fromArray(F, c, r1 + 2 * L); c13 = FloatVector.fromArray(F, c, r1 + 3 * L);
            c20 = FloatVector.fromArray(F, c, r2); c21 = FloatVector.fromArray(F, c, r2 + L);
            c22 = FloatVector.fromArray(F, c, r2 + 2 * L); c23 = FloatVector.fromArray(F, c, r2 + 3 * L);
            c30 = FloatVector.fromArray(F, c, r3); c31 = FloatVector.fromArray(F, c, r3 + L);
            c32 = FloatVector.fromArray(F, c, r3 + 2 * L); c33 = FloatVector.fromArray(F, c, r3 + 3 * L);
            c40 = FloatVector.fromArray(F, c, r4); c41 = FloatVector.fromArray(F, c, r4 + L);
            c42 = FloatVector.fromArray(F, c, r4 + 2 * L); c43 = FloatVector.fromArray(F, c, r4 + 3 * L);
            c50 = FloatVector.fromArray(F, c, r5); c51 = FloatVector.fromArray(F, c, r5 + L);
            c52 = FloatVector.fromArray(F, c, r5 + 2 * L); c53 = FloatVector.fromArray(F, c, r5 + 3 * L);
        } else {
            FloatVector z = FloatVector.zero(F);
            c00 = z; c01 = z; c02 = z; c03 = z; c10 = z; c11 = z; c12 = z; c13 = z;
            c20 = z; c21 = z; c22 = z; c23 = z; c30 = z; c31 = z; c32 = z; c33 = z;
            c40 = z; c41 = z; c42 = z; c43 = z; c50 = z; c51 = z; c52 = z; c53 = z;
        }
        int ai = a0;
        int bp = b0;
        for (int p = 0; p < k; p++, ai += acs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(F, b, bp);
            FloatVector b1v = FloatVector.fromArray(F, b, bp + L);
            FloatVector b2v = FloatVector.fromArray(F, b, bp + 2 * L);
            FloatVector b3v = FloatVector.fromArray(F, b, bp + 3 * L);
            FloatVector av = FloatVector.broadcast(F, a[ai]);
            c00 = av.fma(b0v, c00); c01 = av.fma(b1v, c01); c02 = av.fma(b2v, c02); c03 = av.fma(b3v, c03);
            av = FloatVector.broadcast(F, a[ai + ars]);
            c10 = av.fma(b0v, c10); c11 = av.fma(b1v, c11); c12 = av.fma(b2v, c12); c13 = av.fma(b3v, c13);
            av = FloatVector.broadcast(F, a[ai + 2 * ars]);
            c20 = av.fma(b0v, c20); c21 = av.fma(b1v, c21); c22 = av.fma(b2v, c22); c23 = av.fma(b3v, c23);
            av = FloatVector.broadcast(F, a[ai + 3 * ars]);
            c30 = av.fma(b0v, c30); c31 = av.fma(b1v, c31); c32 = av.fma(b2v, c32); c33 = av.fma(b3v, c33);
            av = FloatVector.broadcast(F, a[ai + 4 * ars]);
            c40 = av.fma(b0v, c40); c41 = av.fma(b1v, c41); c42 = av.fma(b2v, c42); c43 = av.fma(b3v, c43);
            av = FloatVector.broadcast(F, a[ai + 5 * ars]);
            c50 = av.fma(b0v, c50); c51 = av.fma(b1v, c51); c52 = av.fma(b2v, c52); c53 = av.fma(b3v, c53);
        }
        c00.intoArray(c, c0); c01.intoArray(c, c0 + L); c02.intoArray(c, c0 + 2 * L); c03.intoArray(c, c0 + 3 * L);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + L); c12.intoArray(c, r1 + 2 * L); c13.intoArray(c, r1 + 3 * L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L); c22.intoArray(c, r2 + 2 * L); c23.intoArray(c, r2 + 3 * L);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + L); c32.intoArray(c, r3 + 2 * L); c33.intoArray(c, r3 + 3 * L);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + L); c42.intoArray(c, r4 + 2 * L); c43.intoArray(c, r4 + 3 * L);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + L); c52.intoArray(c, r5 + 2 * L); c53.intoArray(c, r5 + 3 * L);
    }

    /** 3 vectors of columns, 6 rows: the column tail of a 6-row block. */
    private static void block6x3(float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean acc) {
        FloatVector c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
        FloatVector c40, c41, c42, c50, c51, c52;
        int r1 = c0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc;
        if (acc) {
            c00 = FloatVector.fromArray(F, c, c0); c01 = FloatVector.fromArray(F, c, c0 + L);
            c02 = FloatVector.fromArray(F, c, c0 + 2 * L); c10 = FloatVector.fromArray(F, c, r1);
            c11 = FloatVector.fromArray(F, c, r1 + L); c12 = FloatVector.fromArray(F, c, r1 + 2 * L);
            c20 = FloatVector.fromArray(F, c, r2); c21 = FloatVector.fromArray(F, c, r2 + L);
            c22 = FloatVector.fromArray(F, c, r2 + 2 * L); c30 = FloatVector.fromArray(F, c, r3);
            c31 = FloatVector.fromArray(F, c, r3 + L); c32 = FloatVector.fromArray(F, c, r3 + 2 * L);
            c40 = FloatVector.fromArray(F, c, r4); c41 = FloatVector.fromArray(F, c, r4 + L);
            c42 = FloatVector.fromArray(F, c, r4 + 2 * L); c50 = FloatVector.fromArray(F, c, r5);
            c51 = FloatVector.fromArray(F, c, r5 + L); c52 = FloatVector.fromArray(F, c, r5 + 2 * L);
        } else {
            FloatVector z = FloatVector.zero(F);
            c00 = z; c01 = z; c02 = z; c10 = z; c11 = z; c12 = z; c20 = z; c21 = z; c22 = z; c30 = z; c31 = z; c32 = z;
            c40 = z; c41 = z; c42 = z; c50 = z; c51 = z; c52 = z;
        }
        int ai = a0;
        int bp = b0;
        for (int p = 0; p < k; p++, ai += acs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(F, b, bp);
            FloatVector b1v = FloatVector.fromArray(F, b, bp + L);
            FloatVector b2v = FloatVector.fromArray(F, b, bp + 2 * L);
            FloatVector av = FloatVector.broadcast(F, a[ai]);
            c00 = av.fma(b0v, c00); c01 = av.fma(b1v, c01); c02 = av.fma(b2v, c02);
            av = FloatVector.broadcast(F, a[ai + ars]);
            c10 = av.fma(b0v, c10); c11 = av.fma(b1v, c11); c12 = av.fma(b2v, c12);
            av = FloatVector.broadcast(F, a[ai + 2 * ars]);
            c20 = av.fma(b0v, c20); c21 = av.fma(b1v, c21); c22 = av.fma(b2v, c22);
            av = FloatVector.broadcast(F, a[ai + 3 * ars]);
            c30 = av.fma(b0v, c30); c31 = av.fma(b1v, c31); c32 = av.fma(b2v, c32);
            av = FloatVector.broadcast(F, a[ai + 4 * ars]);
            c40 = av.fma(b0v, c40); c41 = av.fma(b1v, c41); c42 = av.fma(b2v, c42);
            av = FloatVector.broadcast(F, a[ai + 5 * ars]);
            c50 = av.fma(b0v, c50); c51 = av.fma(b1v, c51); c52 = av.fma(b2v, c52);
        }
        c00.intoArray(c, c0); c01.intoArray(c, c0 + L); c02.intoArray(c, c0 + 2 * L);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + L); c12.intoArray(c, r1 + 2 * L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L); c22.intoArray(c, r2 + 2 * L);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + L); c32.intoArray(c, r3 + 2 * L);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + L); c42.intoArray(c, r4 + 2 * L);
        c50.intoArray(c, r5); c51.intoArray(c, r5 + L); c52.intoArray(c, r5 + 2 * L);
    }

    /** 2 vectors of columns, 6 rows: the column tail of a 6-row block. */
    private static void block6x2(float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean acc) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        int r1 = c0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc;
        if (acc) {
            c00 = FloatVector.fromArray(F, c, c0); c01 = FloatVector.fromArray(F, c, c0 + L);
            c10 = FloatVector.fromArray(F, c, r1); c11 = FloatVector.fromArray(F, c, r1 + L);
            c20 = FloatVector.fromArray(F, c, r2); c21 = FloatVector.fromArray(F, c, r2 + L);
            c30 = FloatVector.fromArray(F, c, r3); c31 = FloatVector.fromArray(F, c, r3 + L);
            c40 = FloatVector.fromArray(F, c, r4); c41 = FloatVector.fromArray(F, c, r4 + L);
            c50 = FloatVector.fromArray(F, c, r5); c51 = FloatVector.fromArray(F, c, r5 + L);
        } else {
            FloatVector z = FloatVector.zero(F);
            c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z; c30 = z; c31 = z; c40 = z; c41 = z; c50 = z; c51 = z;
        }
        int ai = a0;
        int bp = b0;
        for (int p = 0; p < k; p++, ai += acs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(F, b, bp);
            FloatVector b1v = FloatVector.fromArray(F, b, bp + L);
            FloatVector av = FloatVector.broadcast(F, a[ai]);
            c00 = av.fma(b0v, c00); c01 = av.fma(b1v, c01);
            av = FloatVector.broadcast(F, a[ai + ars]);
            c10 = av.fma(b0v, c10); c11 = av.fma(b1v, c11);
            av = FloatVector.broadcast(F, a[ai + 2 * ars]);
            c20 = av.fma(b0v, c20); c21 = av.fma(b1v, c21);
            av = FloatVector.broadcast(F, a[ai + 3 * ars]);
            c30 = av.fma(b0v, c30); c31 = av.fma(b1v, c31);
            av = FloatVector.broadcast(F, a[ai + 4 * ars]);
            c40 = av.fma(b0v, c40); c41 = av.fma(b1v, c41);
            av = FloatVector.broadcast(F, a[ai + 5 * ars]);
            c50 = av.fma(b0v, c50); c51 = av.fma(b1v, c51);
        }
        c00.intoArray(c, c0); c01.intoArray(c, c0 + L); c10.intoArray(c, r1); c11.intoArray(c, r1 + L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L); c30.intoArray(c, r3); c31.intoArray(c, r3 + L);
        c40.intoArray(c, r4); c41.intoArray(c, r4 + L); c50.intoArray(c, r5); c51.intoArray(c, r5 + L);
    }

    /** One vector of columns, 6 rows: the column tail of a 6-row block. */
    private static void block6x1(float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean acc) {
        FloatVector c00, c10, c20, c30, c40, c50;
        int r1 = c0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc;
        if (acc) {
            c00 = FloatVector.fromArray(F, c, c0); c10 = FloatVector.fromArray(F, c, r1);
            c20 = FloatVector.fromArray(F, c, r2); c30 = FloatVector.fromArray(F, c, r3);
            c40 = FloatVector.fromArray(F, c, r4); c50 = FloatVector.fromArray(F, c, r5);
        } else {
            FloatVector z = FloatVector.zero(F);
            c00 = z; c10 = z; c20 = z; c30 = z; c40 = z; c50 = z;
        }
        int ai = a0;
        int bp = b0;
        for (int p = 0; p < k; p++, ai += acs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(F, b, bp);
            FloatVector av = FloatVector.broadcast(F, a[ai]);
            c00 = av.fma(b0v, c00);
            av = FloatVector.broadcast(F, a[ai + ars]);
            c10 = av.fma(b0v, c10);
            av = FloatVector.broadcast(F, a[ai + 2 * ars]);
            c20 = av.fma(b0v, c20);
            av = FloatVector.broadcast(F, a[ai + 3 * ars]);
            c30 = av.fma(b0v, c30);
            av = FloatVector.broadcast(F, a[ai + 4 * ars]);
            c40 = av.fma(b0v, c40);
            av = FloatVector.broadcast(F, a[ai + 5 * ars]);
            c50 = av.fma(b0v, c50);
        }
        c00.intoArray(c, c0); c10.intoArray(c, r1); c20.intoArray(c, r2); c30.intoArray(c, r3);
        c40.intoArray(c, r4); c50.intoArray(c, r5);
    }

    private static void block4x1(float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean acc) {
        int r1 = c0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        FloatVector z = FloatVector.zero(F);
        FloatVector c0v = acc ? FloatVector.fromArray(F, c, c0) : z;
        FloatVector c1v = acc ? FloatVector.fromArray(F, c, r1) : z;
        FloatVector c2v = acc ? FloatVector.fromArray(F, c, r2) : z;
        FloatVector c3v = acc ? FloatVector.fromArray(F, c, r3) : z;
        int ai = a0;
        int bp = b0;
        for (int p = 0; p < k; p++, ai += acs, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(F, b, bp);
            c0v = FloatVector.broadcast(F, a[ai]).fma(bv, c0v);
            c1v = FloatVector.broadcast(F, a[ai + ars]).fma(bv, c1v);
            c2v = FloatVector.broadcast(F, a[ai + 2 * ars]).fma(bv, c2v);
            c3v = FloatVector.broadcast(F, a[ai + 3 * ars]).fma(bv, c3v);
        }
        c0v.intoArray(c, c0);
        c1v.intoArray(c, r1);
        c2v.intoArray(c, r2);
        c3v.intoArray(c, r3);
    }

    private static void block2x4(float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int ldc, int k, boolean acc) {
        int r1 = c0 + ldc;
        FloatVector z = FloatVector.zero(F);
        FloatVector c00 = acc ? FloatVector.fromArray(F, c, c0) : z;
        FloatVector c01 = acc ? FloatVector.fromArray(F, c, c0 + L) : z;
        FloatVector c02 = acc ? FloatVector.fromArray(F, c, c0 + 2 * L) : z;
        FloatVector c03 = acc ? FloatVector.fromArray(F, c, c0 + 3 * L) : z;
        FloatVector c10 = acc ? FloatVector.fromArray(F, c, r1) : z;
        FloatVector c11 = acc ? FloatVector.fromArray(F, c, r1 + L) : z;
        FloatVector c12 = acc ? FloatVector.fromArray(F, c, r1 + 2 * L) : z;
        FloatVector c13 = acc ? FloatVector.fromArray(F, c, r1 + 3 * L) : z;
        int ai = a0;
        int bp = b0;
        for (int p = 0; p < k; p++, ai += acs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(F, b, bp);
            FloatVector b1v = FloatVector.fromArray(F, b, bp + L);
            FloatVector b2v = FloatVector.fromArray(F, b, bp + 2 * L);
            FloatVector b3v = FloatVector.fromArray(F, b, bp + 3 * L);
            FloatVector av = FloatVector.broadcast(F, a[ai]);
            c00 = av.fma(b0v, c00);
            c01 = av.fma(b1v, c01);
            c02 = av.fma(b2v, c02);
            c03 = av.fma(b3v, c03);
            av = FloatVector.broadcast(F, a[ai + ars]);
            c10 = av.fma(b0v, c10);
            c11 = av.fma(b1v, c11);
            c12 = av.fma(b2v, c12);
            c13 = av.fma(b3v, c13);
        }
        c00.intoArray(c, c0); c01.intoArray(c, c0 + L); c02.intoArray(c, c0 + 2 * L); c03.intoArray(c, c0 + 3 * L);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + L); c12.intoArray(c, r1 + 2 * L); c13.intoArray(c, r1 + 3 * L);
    }

    private static void block1x4(float[] a, int a0, int acs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int k, boolean acc) {
        FloatVector z = FloatVector.zero(F);
        FloatVector c0v = acc ? FloatVector.fromArray(F, c, c0) : z;
        FloatVector c1v = acc ? FloatVector.fromArray(F, c, c0 + L) : z;
        FloatVector c2v = acc ? FloatVector.fromArray(F, c, c0 + 2 * L) : z;
        FloatVector c3v = acc ? FloatVector.fromArray(F, c, c0 + 3 * L) : z;
        int ai = a0;
        int bp = b0;
        for (int p = 0; p < k; p++, ai += acs, bp += ldb) {
            FloatVector av = FloatVector.broadcast(F, a[ai]);
            c0v = av.fma(FloatVector.fromArray(F, b, bp), c0v);
            c1v = av.fma(FloatVector.fromArray(F, b, bp + L), c1v);
            c2v = av.fma(FloatVector.fromArray(F, b, bp + 2 * L), c2v);
            c3v = av.fma(FloatVector.fromArray(F, b, bp + 3 * L), c3v);
        }
        c0v.intoArray(c, c0); c1v.intoArray(c, c0 + L); c2v.intoArray(c, c0 + 2 * L); c3v.intoArray(c, c0 + 3 * L);
    }

    private static void block1x1(float[] a, int a0, int acs, float[] b, int b0, int ldb,
                                 float[] c, int c0, int k, boolean acc) {
        FloatVector cv = acc ? FloatVector.fromArray(F, c, c0) : FloatVector.zero(F);
        int ai = a0;
        int bp = b0;
        for (int p = 0; p < k; p++, ai += acs, bp += ldb) {
            cv = FloatVector.broadcast(F, a[ai]).fma(FloatVector.fromArray(F, b, bp), cv);
        }
        cv.intoArray(c, c0);
    }

    @Override
    public float max(float[] x, int off, int n) {
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = off; i < off + n; i += L) {
            m = m.max(FloatVector.fromArray(F, x, i));
        }
        return m.reduceLanes(VectorOperators.MAX);
    }

    /**
     * {@link #onlineSoftmaxRows}, called through a {@link MethodHandle} read from an array: not a compile-time
     * constant, so C2 never inlines the loop into a kernel, and it is compiled on its own whatever ran first (as in
     * {@link VectorActivationKernels}). Inlined into the forward's tile method, its second vector exponential passed
     * C2's node budget ({@code NodeCountInliningCutoff}) and the exponential's vectors were boxed: 30% slower. A call
     * costs nanoseconds, against microseconds of work per tile.
     */
    private static final MethodHandle[] ONLINE_SOFTMAX = onlineSoftmaxHandle();

    private static MethodHandle[] onlineSoftmaxHandle() {
        try {
            return new MethodHandle[] {MethodHandles.lookup().findStatic(VectorTileMath.class, "onlineSoftmaxRows",
                    MethodType.methodType(void.class, float[].class, int.class, int.class, int.class, float[].class,
                            float[].class, float[].class, float[].class, int.class))};
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Override
    public void onlineSoftmax(float[] s, int ld, int rows, int n, float[] m, float[] mNew, float[] l, float[] acc,
                              int accLd) {
        try {
            ONLINE_SOFTMAX[0].invokeExact(s, ld, rows, n, m, mNew, l, acc, accLd);
        } catch (Throwable t) {
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(t);
        }
    }

    private static void onlineSoftmaxRows(float[] s, int ld, int rows, int n, float[] m, float[] mNew, float[] l,
                                          float[] acc, int accLd) {
        VectorTileMath math = INSTANCE;
        // Three passes over the rows rather than one: a row's maximum is a cross-lane reduction and its rescale
        // factor a scalar exp, two latency chains that stall a one-pass loop row after row; in passes, the rows'
        // chains are independent and overlap. Each value comes from the same operations as in the scalar twin.
        for (int r = 0; r < rows; r++) {
            mNew[r] = Math.max(m[r], math.max(s, r * ld, n));
        }
        for (int r = 0; r < rows; r++) {
            float mOld = m[r];
            float next = mNew[r];
            // m[r] holds the rescale factor until the last pass; 1 where nothing is rescaled.
            m[r] = mOld != Float.NEGATIVE_INFINITY && mOld != next ? Exp.exp(mOld - next) : 1f;
        }
        for (int r = 0; r < rows; r++) {
            int so = r * ld;
            float next = mNew[r];
            float alpha = m[r];
            m[r] = next;
            if (next == Float.NEGATIVE_INFINITY) {
                java.util.Arrays.fill(s, so, so + n, 0f);
                continue;
            }
            if (alpha != 1f) {
                math.scale(acc, r * accLd, accLd, alpha);
            }
            math.expShiftAccumulate(s, so, n, next, l, r * TileMath.LANES, alpha);
        }
    }

    @Override
    public void expShiftAccumulate(float[] x, int off, int n, float shift, float[] sums, int sumOff, float decay) {
        // With 8-lane vectors (AVX2) two vectors fill the LANES slots; the slot of element i is still i % LANES.
        FloatVector sh = FloatVector.broadcast(F, shift);
        for (int part = 0; part < TileMath.LANES; part += L) {
            FloatVector sum = FloatVector.fromArray(F, sums, sumOff + part).mul(decay);
            for (int i = off + part; i < off + n; i += TileMath.LANES) {
                FloatVector e = exp(FloatVector.fromArray(F, x, i).sub(sh));
                e.intoArray(x, i);
                sum = sum.add(e);
            }
            sum.intoArray(sums, sumOff + part);
        }
    }

    @Override
    public void expShift(float[] x, int off, int n, float shift) {
        FloatVector sh = FloatVector.broadcast(F, shift);
        for (int i = off; i < off + n; i += L) {
            exp(FloatVector.fromArray(F, x, i).sub(sh)).intoArray(x, i);
        }
    }

    @Override
    public void dotRows(float[] a, int aOff, int lda, float[] w, int wOff, int ldw, float alpha,
                        float[] c, int cOff, int ldc, int m, int n, int k, boolean accumulate, float[] scratch) {
        int k0 = k - k % LANES;
        int j = 0;
        // Four rows of W at a time: four independent fma chains per step, one load of A for the four.
        for (; j + DOT_ROWS <= n; j += DOT_ROWS) {
            int wj = wOff + j * ldw;
            for (int i = 0; i < m; i++) {
                int ai = aOff + i * lda;
                if (L == LANES) {
                    dot4(a, ai, w, wj, ldw, k0, scratch);
                } else {
                    for (int r = 0; r < DOT_ROWS; r++) {
                        dotSlots(a, ai, w, wj + r * ldw, k0, scratch, r * LANES);
                    }
                }
                int ci = cOff + i * ldc + j;
                for (int r = 0; r < DOT_ROWS; r++) {
                    TileMath.finishDot(a, ai, w, wj + r * ldw, k0, k, scratch, r * LANES, alpha, c, ci + r, accumulate);
                }
            }
        }
        for (; j < n; j++) {
            int wj = wOff + j * ldw;
            for (int i = 0; i < m; i++) {
                int ai = aOff + i * lda;
                dotSlots(a, ai, w, wj, k0, scratch, 0);
                TileMath.finishDot(a, ai, w, wj, k0, k, scratch, 0, alpha, c, cOff + i * ldc + j, accumulate);
            }
        }
    }

    /** The slots of four dot products over steps {@code 0..k0} (a multiple of {@code LANES = L}). */
    private static void dot4(float[] a, int ai, float[] w, int w0, int ldw, int k0, float[] slots) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int w1 = w0 + ldw;
        int w2 = w1 + ldw;
        int w3 = w2 + ldw;
        for (int p = 0; p < k0; p += L) {
            FloatVector x = FloatVector.fromArray(F, a, ai + p);
            s0 = x.fma(FloatVector.fromArray(F, w, w0 + p), s0);
            s1 = x.fma(FloatVector.fromArray(F, w, w1 + p), s1);
            s2 = x.fma(FloatVector.fromArray(F, w, w2 + p), s2);
            s3 = x.fma(FloatVector.fromArray(F, w, w3 + p), s3);
        }
        s0.intoArray(slots, 0);
        s1.intoArray(slots, L);
        s2.intoArray(slots, 2 * L);
        s3.intoArray(slots, 3 * L);
    }

    /** The {@code LANES} slots of one dot product over steps {@code 0..k0}, as {@code LANES / L} vectors. */
    private static void dotSlots(float[] a, int ai, float[] w, int wj, int k0, float[] slots, int off) {
        for (int h = 0; h < LANES; h += L) {
            FloatVector s = FloatVector.zero(F);
            for (int p = h; p < k0; p += LANES) {
                s = FloatVector.fromArray(F, a, ai + p).fma(FloatVector.fromArray(F, w, wj + p), s);
            }
            s.intoArray(slots, off + h);
        }
    }

    @Override
    public void scale(float[] x, int off, int n, float factor) {
        for (int i = off; i < off + n; i += L) {
            FloatVector.fromArray(F, x, i).mul(factor).intoArray(x, i);
        }
    }

    @Override
    public void softmaxGrad(float[] p, float[] dp, int off, int n, float d) {
        for (int i = off; i < off + n; i += L) {
            FloatVector pv = FloatVector.fromArray(F, p, i);
            pv.mul(FloatVector.fromArray(F, dp, i).sub(d)).intoArray(dp, i);
        }
    }

    /** The steps of {@link Exp#exp}, lane-wise. */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> tiny = x.compare(VectorOperators.LT, Exp.MIN_ARG);
        FloatVector xc = x.max(Exp.MIN_ARG).min(Exp.MAX_ARG);
        FloatVector n = xc.fma(Exp.LOG2E, Exp.ROUNDER).sub(Exp.ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(F, -Exp.LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(F, -Exp.LN2_LO), r);
        FloatVector p = r.fma(Exp.C7, Exp.C6);
        p = p.fma(r, FloatVector.broadcast(F, Exp.C5));
        p = p.fma(r, FloatVector.broadcast(F, Exp.C4));
        p = p.fma(r, FloatVector.broadcast(F, Exp.C3));
        p = p.fma(r, FloatVector.broadcast(F, Exp.C2));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector result = p.mul(bits.reinterpretAsFloats());
        return result.blend(0f, tiny);
    }
}
