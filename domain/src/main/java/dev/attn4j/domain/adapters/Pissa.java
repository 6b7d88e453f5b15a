package dev.attn4j.domain.adapters;

import dev.attn4j.ports.InvalidRequestException;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

import java.util.SplittableRandom;

/**
 * PiSSA's initialisation (Meng et al., 2024) as PEFT computes it (peft {@code src/peft/tuners/lora/layer.py},
 * {@code LoraLayer.pissa_init}): with {@code W [out, in] = U·diag(S)·Vh} and the top {@code r} singular triplets,
 * {@code A = diag(√(S_r/s))·Vh_r [r, in]}, {@code B = U_r·diag(√(S_r/s)) [out, r]}, and the base becomes the residual
 * {@code W − s·B·A} (which is {@code W} without its top {@code r} components), so the adapted model starts out equal
 * to the original one.
 *
 * <p>The SVD runs on the host in double precision with EJML: the full one ({@code init_lora_weights="pissa"},
 * PEFT's {@code torch.linalg.svd(W, full_matrices=False)}), or the randomized one of
 * {@code "pissa_niter_N"}, which is {@code torch.svd_lowrank(W, q=r, niter=N)} (torch {@code _lowrank.py},
 * {@code _svd_lowrank} and {@code get_approximate_basis}; Halko et al. 2009, algorithm 5.1): a Gaussian test matrix,
 * {@code N} QR-orthonormalised power iterations, then the SVD of the small projected matrix. The Gaussian draws are
 * attn4j's own (seeded), not torch's, so a randomized decomposition equals torch's only as far as both have
 * converged to the top-{@code r} subspace.
 *
 * <pre>{@code
 * Pissa.Init p = Pissa.init(w, out, in, 8, 2.0, 0, 0L);    // full SVD, r = 8, scaling 2
 * float[] a = p.a(), b = p.b(), residual = p.residual();
 * }</pre>
 */
public final class Pissa {
    private Pissa() {
    }

    /**
     * A truncated SVD {@code W ≈ U·diag(S)·Vᵀ}, singular values in descending order.
     *
     * @param u [out, k] row-major
     * @param s [k]
     * @param v [in, k] row-major (the right singular vectors as columns; {@code Vh = Vᵀ})
     * @param k the number of triplets
     */
    public record Svd(double[] u, double[] s, double[] v, int k) {
    }

    /**
     * PiSSA's adapter matrices and residual base weight.
     *
     * @param a        {@code lora_A [r, in]}
     * @param b        {@code lora_B [out, r]}
     * @param residual {@code W − s·B·A [out, in]}
     */
    public record Init(float[] a, float[] b, float[] residual) {
    }

    /**
     * PiSSA from {@code w}.
     *
     * @param w       the base weight {@code [out, in]}, row-major
     * @param out     rows
     * @param in      columns
     * @param r       the rank, at most {@code min(out, in)}
     * @param scaling the adapter's scaling {@code s}
     * @param niter   0 for the full SVD, else the randomized SVD's power iterations
     * @param seed    the seed of the randomized SVD's Gaussian test matrix (unused for the full SVD)
     * @return A, B and the residual
     */
    public static Init init(float[] w, int out, int in, int r, double scaling, int niter, long seed) {
        check(w, out, in, r);
        InvalidRequestException.check(niter >= 0, "niter", ">= 0", niter);
        Svd svd = niter == 0 ? svd(w, out, in, r) : svdLowRank(w, out, in, r, niter, gaussian(seed, out, in, r));
        return fromSvd(w, out, in, r, scaling, svd);
    }

    /**
     * PiSSA's matrices from a given decomposition: {@code A = diag(√(S_r/s))·V_rᵀ}, {@code B = U_r·diag(√(S_r/s))},
     * residual {@code W − s·B·A} (in double, rounded once to float).
     *
     * @param w       the base weight {@code [out, in]}
     * @param out     rows
     * @param in      columns
     * @param r       the rank
     * @param scaling {@code s}
     * @param svd     at least {@code r} triplets of {@code w}
     * @return A, B and the residual
     */
    public static Init fromSvd(float[] w, int out, int in, int r, double scaling, Svd svd) {
        InvalidRequestException.check(svd.k() >= r, "svd", "at least r = " + r + " triplets", svd.k());
        InvalidRequestException.check(Double.isFinite(scaling) && scaling > 0, "scaling", "a finite number > 0", scaling);
        int k = svd.k();
        double[] a = new double[r * in];
        double[] b = new double[out * r];
        for (int i = 0; i < r; i++) {
            double root = Math.sqrt(svd.s()[i] / scaling);
            for (int c = 0; c < in; c++) {
                a[i * in + c] = root * svd.v()[c * k + i];
            }
            for (int row = 0; row < out; row++) {
                b[row * r + i] = svd.u()[row * k + i] * root;
            }
        }
        float[] residual = new float[w.length];
        for (int row = 0; row < out; row++) {
            for (int c = 0; c < in; c++) {
                double ba = 0;
                for (int i = 0; i < r; i++) {
                    ba += b[row * r + i] * a[i * in + c];
                }
                residual[row * in + c] = (float) (w[row * in + c] - scaling * ba);
            }
        }
        return new Init(toFloats(a), toFloats(b), residual);
    }

    /**
     * The top {@code r} triplets of the full SVD ({@code torch.linalg.svd(W, full_matrices=False)} truncated).
     *
     * @param w   {@code [out, in]}
     * @param out rows
     * @param in  columns
     * @param r   how many triplets, at most {@code min(out, in)}
     * @return the truncated SVD
     */
    public static Svd svd(float[] w, int out, int in, int r) {
        check(w, out, in, r);
        DMatrixRMaj m = matrix(w, out, in);
        SingularValueDecomposition_F64<DMatrixRMaj> d = DecompositionFactory_DDRM.svd(out, in, true, true, true);
        if (!d.decompose(m)) {
            throw new IllegalStateException("EJML's SVD did not converge for a " + out + "x" + in + " matrix");
        }
        DMatrixRMaj u = d.getU(null, false);
        DMatrixRMaj v = d.getV(null, false);
        DMatrixRMaj s = d.getW(null);
        // EJML leaves the singular values unordered; torch returns them descending
        SingularOps_DDRM.descendingOrder(u, false, s, v, false);
        return truncate(u, s, v, r);
    }

    /**
     * {@code torch.svd_lowrank(W, q, niter)} with the Gaussian test matrix given (torch draws it with
     * {@code torch.randn(n, q)} inside {@code get_approximate_basis}): for {@code out < in} or {@code in > q} the
     * basis is built for {@code Wᵀ} ({@code R [out, q]}), else for {@code W} ({@code R [in, q]}).
     *
     * @param w     {@code [out, in]}
     * @param out   rows
     * @param in    columns
     * @param q     the rank of the approximation
     * @param niter power iterations
     * @param r     the test matrix, row-major, {@code [out, q]} or {@code [in, q]} as above
     * @return the {@code q} triplets, descending
     */
    public static Svd svdLowRank(float[] w, int out, int in, int q, int niter, double[] r) {
        check(w, out, in, q);
        DMatrixRMaj a = matrix(w, out, in);
        boolean transposed = out < in || in > q;
        int rRows = transposed ? out : in;
        InvalidRequestException.check(r != null && r.length == (long) rRows * q, "test matrix",
                rRows * q + " values [" + rRows + ", " + q + "]", r == null ? "null" : r.length + " values");
        DMatrixRMaj rm = new DMatrixRMaj(rRows, q, true, r);
        if (transposed) {
            DMatrixRMaj at = CommonOps_DDRM.transpose(a, null);
            DMatrixRMaj basis = approximateBasis(at, rm, niter);          // [in, q]
            DMatrixRMaj bt = new DMatrixRMaj(out, q);
            CommonOps_DDRM.mult(a, basis, bt);                           // B_t = W·Q
            Svd small = svdOf(bt, q);                                    // B_t = U·S·Vhᵀ... V [q, q]
            DMatrixRMaj vSmall = new DMatrixRMaj(q, q, true, small.v());
            DMatrixRMaj v = new DMatrixRMaj(in, q);
            CommonOps_DDRM.mult(basis, vSmall, v);                       // V = Q·V
            return new Svd(small.u(), small.s(), v.getData(), q);
        }
        DMatrixRMaj basis = approximateBasis(a, rm, niter);              // [out, q]
        DMatrixRMaj bt = new DMatrixRMaj(q, in);
        CommonOps_DDRM.multTransA(basis, a, bt);                         // B_t = Qᵀ·W
        Svd small = svdOf(bt, q);                                        // U [q, q]
        DMatrixRMaj uSmall = new DMatrixRMaj(q, q, true, small.u());
        DMatrixRMaj u = new DMatrixRMaj(out, q);
        CommonOps_DDRM.mult(basis, uSmall, u);                           // U = Q·U
        return new Svd(u.getData(), small.s(), small.v(), q);
    }

    /** torch's {@code get_approximate_basis}: Q = qr(A·R).Q, then niter times Q = qr(Aᵀ·Q).Q, Q = qr(A·Q).Q. */
    private static DMatrixRMaj approximateBasis(DMatrixRMaj a, DMatrixRMaj r, int niter) {
        DMatrixRMaj y = new DMatrixRMaj(a.numRows, r.numCols);
        CommonOps_DDRM.mult(a, r, y);
        DMatrixRMaj q = orthonormal(y);
        for (int i = 0; i < niter; i++) {
            DMatrixRMaj z = new DMatrixRMaj(a.numCols, q.numCols);
            CommonOps_DDRM.multTransA(a, q, z);
            q = orthonormal(z);
            DMatrixRMaj x = new DMatrixRMaj(a.numRows, q.numCols);
            CommonOps_DDRM.mult(a, q, x);
            q = orthonormal(x);
        }
        return q;
    }

    /** The reduced Q of a Householder QR ({@code torch.linalg.qr(m).Q}, mode "reduced"). */
    private static DMatrixRMaj orthonormal(DMatrixRMaj m) {
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(m.numRows, m.numCols);
        if (!qr.decompose(m.copy())) {
            throw new IllegalStateException("EJML's QR failed for a " + m.numRows + "x" + m.numCols + " matrix");
        }
        return qr.getQ(null, true);
    }

    /** All {@code k} triplets of a small matrix, descending. */
    private static Svd svdOf(DMatrixRMaj m, int k) {
        SingularValueDecomposition_F64<DMatrixRMaj> d = DecompositionFactory_DDRM.svd(m.numRows, m.numCols, true, true, true);
        if (!d.decompose(m.copy())) {
            throw new IllegalStateException("EJML's SVD did not converge for a " + m.numRows + "x" + m.numCols + " matrix");
        }
        DMatrixRMaj u = d.getU(null, false);
        DMatrixRMaj v = d.getV(null, false);
        DMatrixRMaj s = d.getW(null);
        SingularOps_DDRM.descendingOrder(u, false, s, v, false);
        return truncate(u, s, v, k);
    }

    private static Svd truncate(DMatrixRMaj u, DMatrixRMaj s, DMatrixRMaj v, int r) {
        DMatrixRMaj ur = CommonOps_DDRM.extract(u, 0, u.numRows, 0, r);
        DMatrixRMaj vr = CommonOps_DDRM.extract(v, 0, v.numRows, 0, r);
        double[] sr = new double[r];
        for (int i = 0; i < r; i++) {
            sr[i] = s.get(i, i);
        }
        return new Svd(ur.getData(), sr, vr.getData(), r);
    }

    /** The seeded standard-normal test matrix of the randomized SVD, shaped as {@link #svdLowRank} expects. */
    static double[] gaussian(long seed, int out, int in, int q) {
        int rows = out < in || in > q ? out : in;
        double[] g = new double[Math.multiplyExact(rows, q)];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < g.length; i++) {
            double u1 = random.nextDouble();
            double u2 = random.nextDouble();
            g[i] = Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2 * Math.PI * u2);
        }
        return g;
    }

    private static DMatrixRMaj matrix(float[] w, int rows, int cols) {
        DMatrixRMaj m = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < w.length; i++) {
            m.data[i] = w[i];
        }
        return m;
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    private static void check(float[] w, int out, int in, int r) {
        InvalidRequestException.check(out >= 1 && in >= 1, "weight", "a non-empty [out, in] matrix", out + "x" + in);
        InvalidRequestException.check(w != null && w.length == (long) out * in, "weight", (long) out * in + " values",
                w == null ? "null" : w.length + " values");
        InvalidRequestException.check(r >= 1 && r <= Math.min(out, in), "r",
                "between 1 and min(out, in) = " + Math.min(out, in) + " (PiSSA takes r singular vectors)", r);
    }
}
