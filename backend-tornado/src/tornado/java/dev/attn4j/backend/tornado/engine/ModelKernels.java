package dev.attn4j.backend.tornado.engine;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The model ports' small kernels (docs/design.md §9), fp32, on blocks of the device heaps ({@link DeviceHeap}):
 * element-wise ops, activations and GLUs, column and row reductions, token shift, embedding, the per-row part of
 * the fused cross-entropy, AdamW, sums of squares and the Philox uniform fill. The GEMM is {@link GemmKernels}.
 *
 * <p>One work item per element unless a comment says otherwise. Every reduction runs in a fixed order (one work
 * item walking its range in order), never with atomics, so results are identical run to run. Where a block
 * starts, the sizes and the variant travel in {@code meta} (the generic slots below, named per kernel), scalars
 * in {@code fmeta}. TornadoVM contracts {@code a·b + c} into one {@code fma}, as the opencl backend's
 * {@code ops.cl} writes it explicitly.
 *
 * <p>TornadoVM 5.2.1 rules kept here (backend-tornado/README.md): no {@code >>>} on an int (done on a
 * zero-extended long); no kernel named after an OpenCL C built-in (hence {@code axpby}, {@code philoxUniform});
 * no overloads; loop bounds computed without a ternary on a flag; divisions and square roots whose rounding
 * matters in double, rounded once (OpenCL's float ones may be 2.5–3 ulp off).
 */
final class ModelKernels {
    /** Generic {@code meta} slots: the element count and the variant. */
    static final int N = 0, MODE = 1;
    /** Generic {@code meta} slots: where the operands start, and two sizes. */
    static final int A_AT = 2, B_AT = 3, C_AT = 4, D_AT = 5, ROWS = 6, COLS = 7;
    /** Generic {@code meta} slots for further integers (seeds, offsets, flags). */
    static final int I0 = 8, I1 = 9, I2 = 10, I3 = 11, I4 = 12, META_SIZE = 13;
    /** {@code fmeta} slots. */
    static final int F0 = 0, F1 = 1, F2 = 2, F3 = 3, F4 = 4, F5 = 5, F6 = 6, F7 = 7, F8 = 8, F9 = 9,
            FMETA_SIZE = 10;

    /** {@link #axpby} modes. */
    static final int ADD = 0, SCALE = 1, FILL = 2, MUL_COLUMNS = 3, MUL_ROWS = 4, COPY = 5;
    /** {@link #activation} modes. */
    static final int ACT_FORWARD = 0, ACT_BACKWARD = 1, GLU_FORWARD = 2, GLU_BACKWARD = 3;
    /** Activation codes (as {@code ops.cl}'s). */
    static final int GELU = 0, GELU_TANH = 1, SILU = 2, RELU = 3;

    private static final float TWO_SQRT_2_OVER_PI = 1.5957691216057308f;
    private static final float KAPPA = 0.044715f;
    private static final float THREE_KAPPA = 0.134145f;
    private static final float INV_SQRT_2PI = 0.3989422804014327f;
    private static final float TAIL_K = 2.8284271247461903f;
    // The normal tail's polynomial, the cpu backend's (backend-cpu ActivationMath, fitted by fit_normal_tail.py):
    // OpenCL's erfc would do, but TornadoVM exposes no erfc, and one formula on both backends keeps them close.
    private static final float P0 = -1.3649412f, P1 = 1.3452863f, P2 = 0.18937555f, P3 = -0.37514913f,
            P4 = -0.15808031f, P5 = 0.28188238f, P6 = 0.114820175f, P7 = -0.29296163f, P8 = -0.05834489f,
            P9 = 0.29376698f, P10 = 0.008192194f, P11 = -0.178755f;

    private ModelKernels() {
    }

    /**
     * Element-wise, one item per element {@code i < N}, by {@code MODE}: {@link #ADD}
     * {@code C[i] = F0·B[i] + A[i]} (one rounding; axpy is {@code A = C = y, B = x}); {@link #SCALE}
     * {@code C[i] = A[i]·F0}; {@link #FILL} {@code C[i] = F0}; {@link #MUL_COLUMNS} {@code C[i] = A[i]·B[i mod COLS]};
     * {@link #MUL_ROWS} {@code C[i] = A[i]·B[i / COLS]}; {@link #COPY} row {@code r = i / COLS} of a strided copy,
     * {@code C[r·I1 + c] = A[r·I0 + c]}, in the int heap when {@code I2} is 1.
     */
    static void axpby(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int i = ctx.globalIdx;
        if (i < meta.get(N)) {
            int mode = meta.get(MODE);
            int a = meta.get(A_AT);
            int b = meta.get(B_AT);
            int c = meta.get(C_AT);
            float alpha = fmeta.get(F0);
            if (mode == ADD) {
                heap.set(c + i, alpha * heap.get(b + i) + heap.get(a + i));
            } else if (mode == SCALE) {
                heap.set(c + i, heap.get(a + i) * alpha);
            } else if (mode == FILL) {
                heap.set(c + i, alpha);
            } else if (mode == MUL_COLUMNS) {
                int cols = meta.get(COLS);
                heap.set(c + i, heap.get(a + i) * heap.get(b + i % cols));
            } else if (mode == MUL_ROWS) {
                int cols = meta.get(COLS);
                heap.set(c + i, heap.get(a + i) * heap.get(b + i / cols));
            } else {
                int cols = meta.get(COLS);
                int r = i / cols;
                int col = i - r * cols;
                int to = c + r * meta.get(I1) + col;
                int from = a + r * meta.get(I0) + col;
                if (meta.get(I2) != 0) {
                    ints.set(to, ints.get(from));
                } else {
                    heap.set(to, heap.get(from));
                }
            }
        }
    }

    /**
     * {@code Q(t) = P(N(0,1) > t)} for {@code t ≥ 0}: {@code τ·exp(P(τ − ½) − t²/2)}, {@code τ = k/(k + t)}, with the
     * degree-11 polynomial of the cpu backend's {@code src/main/python/fit_normal_tail.py} (the cpu backend itself
     * now uses a piecewise table suited to lane permutes; this form suits a GPU, where the division is cheap).
     */
    private static float normalTail(float t) {
        float tau = TAIL_K / (TAIL_K + t);
        float s = tau - 0.5f;
        float p = P11 * s + P10;
        p = p * s + P9;
        p = p * s + P8;
        p = p * s + P7;
        p = p * s + P6;
        p = p * s + P5;
        p = p * s + P4;
        p = p * s + P3;
        p = p * s + P2;
        p = p * s + P1;
        p = p * s + P0;
        return tau * TornadoMath.exp((-0.5f * t) * t + p);
    }

    /** {@code Φ(x)}. */
    private static float normalCdf(float x) {
        float q = normalTail(TornadoMath.abs(x));
        return x < 0.0f ? q : 1.0f - q;
    }

    /** {@code f(x)} for activation code {@code f}. */
    private static float act(int f, float x) {
        float y;
        if (f == GELU) {
            y = x * normalCdf(x);
        } else if (f == GELU_TANH) {
            float z = TWO_SQRT_2_OVER_PI * ((KAPPA * (x * x)) * x + x);
            y = x / (1.0f + TornadoMath.exp(-z));
        } else if (f == SILU) {
            y = x / (1.0f + TornadoMath.exp(-x));
        } else {
            y = x < 0.0f ? 0.0f : x;
        }
        return y;
    }

    /**
     * {@code dy·f'(x)}. The logistic forms take {@code 1 − σ} as {@code e·σ} for positive arguments, so neither
     * side cancels (as the cpu backend's ActivationMath).
     */
    private static float actGrad(int f, float x, float dy) {
        float g;
        if (f == GELU) {
            float density = INV_SQRT_2PI * TornadoMath.exp(-0.5f * x * x);
            g = dy * (x * density + normalCdf(x));
        } else if (f == GELU_TANH) {
            float z = TWO_SQRT_2_OVER_PI * ((KAPPA * (x * x)) * x + x);
            float e = TornadoMath.exp(-z);
            float sigma = 1.0f / (1.0f + e);
            float rest = z > 0.0f ? e * sigma : 1.0f - sigma;
            float slope = TWO_SQRT_2_OVER_PI * (THREE_KAPPA * (x * x) + 1.0f);
            g = dy * ((x * sigma * rest) * slope + sigma);
        } else if (f == SILU) {
            float e = TornadoMath.exp(-x);
            float sigma = 1.0f / (1.0f + e);
            float rest = x > 0.0f ? e * sigma : 1.0f - sigma;
            g = dy * (sigma * (x * rest + 1.0f));
        } else {
            g = x > 0.0f ? dy : 0.0f;
        }
        return g;
    }

    /**
     * Activations by {@code MODE}, function {@code I0}, {@code N} items: {@link #ACT_FORWARD} {@code C = f(A)};
     * {@link #ACT_BACKWARD} {@code C = B·f'(A)} ({@code B = dy}); {@link #GLU_FORWARD} item {@code i = r·COLS + c}
     * of {@code [rows, COLS]} (COLS the half width): {@code C[i] = a·f(g)} with {@code a = A[r·I1 + c]} and
     * {@code g = D[r·I1 + c]}, {@code I1} the inputs' row stride: {@code D = A + COLS}, {@code I1 = 2·COLS} over
     * one concatenated {@code [rows, 2·COLS]}, or two tensors {@code [rows, COLS]} with {@code I1 = COLS} (split);
     * {@link #GLU_BACKWARD} {@code da = dy·f(g)} into {@code C[r·I1 + c]} and {@code dg = f'(g)·(dy·a)} into
     * {@code I2[r·I1 + c]}: laid out as A ({@code I2 = C + COLS}) or stacked {@code [2, rows, COLS]}
     * ({@code I2 = C + N}).
     */
    static void activation(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int i = ctx.globalIdx;
        if (i < meta.get(N)) {
            int mode = meta.get(MODE);
            int f = meta.get(I0);
            int x = meta.get(A_AT);
            int dy = meta.get(B_AT);
            int out = meta.get(C_AT);
            if (mode == ACT_FORWARD) {
                heap.set(out + i, act(f, heap.get(x + i)));
            } else if (mode == ACT_BACKWARD) {
                heap.set(out + i, actGrad(f, heap.get(x + i), heap.get(dy + i)));
            } else {
                int width = meta.get(COLS);
                int r = i / width;
                int at = r * meta.get(I1) + (i - r * width);
                float a = heap.get(x + at);
                float g = heap.get(meta.get(D_AT) + at);
                if (mode == GLU_FORWARD) {
                    heap.set(out + i, a * act(f, g));
                } else {
                    float d = heap.get(dy + i);
                    heap.set(out + at, d * act(f, g));
                    heap.set(meta.get(I2) + at, actGrad(f, g, d * a));
                }
            }
        }
    }

    /**
     * {@code D[c] += Σ_r A[r·COLS + c]·B[r·COLS + c]} for {@code c < COLS}, rows in order (one fma chain); a
     * column sum (a bias gradient) passes {@code MODE = 0} and reads 1 for B. One item per column.
     */
    static void columnDots(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int c = ctx.globalIdx;
        int cols = meta.get(COLS);
        if (c < cols) {
            int rows = meta.get(ROWS);
            int a = meta.get(A_AT);
            int b = meta.get(B_AT);
            int weighted = meta.get(MODE);
            float s = 0.0f;
            for (int r = 0; r < rows; r++) {
                int at = r * cols + c;
                // A select, not a branch around the load: B_AT is a valid block in either mode.
                float w = heap.get(b + at);
                float weight = weighted != 0 ? w : 1.0f;
                s = heap.get(a + at) * weight + s;
            }
            int d = meta.get(D_AT) + c;
            heap.set(d, heap.get(d) + s);
        }
    }

    /** {@code D[r] += Σ_c A[r·COLS + c]·B[r·COLS + c]}, columns in order. One item per row. */
    static void rowDots(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int r = ctx.globalIdx;
        if (r < meta.get(ROWS)) {
            int cols = meta.get(COLS);
            int a = meta.get(A_AT) + r * cols;
            int b = meta.get(B_AT) + r * cols;
            float s = 0.0f;
            for (int c = 0; c < cols; c++) {
                s = heap.get(b + c) * heap.get(a + c) + s;
            }
            int d = meta.get(D_AT) + r;
            heap.set(d, heap.get(d) + s);
        }
    }

    /**
     * Token shift over {@code A [B, S, C]} (S = {@code ROWS}, C = {@code COLS}) into {@code C}: features
     * {@code [I0, I0 + I1)} of token {@code t} come from token {@code t − amount} ({@code I2}) of the same row when
     * it exists and is in the same document (segment ids in the int heap at {@code B_AT}, when {@code I3} is 1:
     * equal and not negative), else 0; the other features are copied.
     */
    static void tokenShift(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int i = ctx.globalIdx;
        if (i < meta.get(N)) {
            int cols = meta.get(COLS);
            int seq = meta.get(ROWS);
            int begin = meta.get(I0);
            int row = i / cols;
            int c = i - row * cols;
            float v = heap.get(meta.get(A_AT) + i);
            if (c >= begin && c < begin + meta.get(I1)) {
                int t = row % seq;
                // In long: t − amount may pass the int range for |amount| near 2^31.
                long src = (long) t - meta.get(I2);
                int ok = src >= 0 && src < seq ? 1 : 0;
                int first = row - t;
                int s = ok == 1 ? (int) src : t;
                if (meta.get(I3) != 0) {
                    int segAt = meta.get(B_AT);
                    int id = ints.get(segAt + row);
                    int other = ints.get(segAt + first + s);
                    ok = ok == 1 && id >= 0 && other == id ? 1 : 0;
                }
                v = ok == 1 ? heap.get(meta.get(A_AT) + (first + s) * cols + c) : 0.0f;
            }
            heap.set(meta.get(C_AT) + i, v);
        }
    }

    /** {@code C[t, :] = A[ids[t], :]}, ids in the int heap at {@code B_AT}, width {@code COLS}; {@code N = T·COLS}. */
    static void embedForward(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int i = ctx.globalIdx;
        if (i < meta.get(N)) {
            int d = meta.get(COLS);
            int t = i / d;
            heap.set(meta.get(C_AT) + i, heap.get(meta.get(A_AT) + ints.get(meta.get(B_AT) + t) * d + (i - t * d)));
        }
    }

    /**
     * {@code C[ids[t], c] += A[t, c]} (A = dy, ids at {@code B_AT}, {@code ROWS} tokens): one item per feature c
     * walking every token in order, so no two items write one element and each element receives its tokens in
     * token order (deterministic, no atomics, no sorting).
     */
    static void embedBackward(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int c = ctx.globalIdx;
        int d = meta.get(COLS);
        if (c < d) {
            int tokens = meta.get(ROWS);
            int ids = meta.get(B_AT);
            int dy = meta.get(A_AT);
            int grad = meta.get(C_AT);
            for (int t = 0; t < tokens; t++) {
                int at = grad + ints.get(ids + t) * d + c;
                heap.set(at, heap.get(at) + heap.get(dy + t * d + c));
            }
        }
    }

    /**
     * The per-row part of the fused cross-entropy, one item per row {@code r < ROWS} of a chunk's logits
     * {@code A [ROWS, COLS]} (COLS = V): the row max, {@code Σ exp(z − max)} (in double: V terms rounded once),
     * {@code lse = max + log Σ}, the loss {@code lse − z[target]} into {@code C[I0 + r]} (0 for an ignored row,
     * target {@code I1}); with {@code MODE} 1 the gradient {@code F0·(softmax(z) − onehot(target))} written over
     * the logits (0 for an ignored row). Targets in the int heap at {@code B_AT}, row {@code I0 + r}.
     */
    static void ceRows(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int r = ctx.globalIdx;
        if (r < meta.get(ROWS)) {
            int v = meta.get(COLS);
            int z = meta.get(A_AT) + r * v;
            int row = meta.get(I0) + r;
            int target = ints.get(meta.get(B_AT) + row);
            int counted = target != meta.get(I1) ? 1 : 0;
            // An ignored row's target is negative: never an index.
            int at = counted == 1 ? target : 0;
            // NaN propagates: the max may skip it, but exp(NaN − max) is NaN and so is the sum.
            float m = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                m = TornadoMath.max(m, heap.get(z + j));
            }
            double s = 0.0;
            for (int j = 0; j < v; j++) {
                s += TornadoMath.exp(heap.get(z + j) - m);
            }
            float sum = (float) s;
            float zt = heap.get(z + at);
            heap.set(meta.get(C_AT) + row, counted == 1 ? (m + TornadoMath.log(sum)) - zt : 0.0f);
            if (meta.get(MODE) != 0) {
                float scale = fmeta.get(F0);
                float inv = (float) (1.0 / s);
                for (int j = 0; j < v; j++) {
                    float p = TornadoMath.exp(heap.get(z + j) - m) * inv;
                    float hot = j == at ? 1.0f : 0.0f;
                    heap.set(z + j, counted == 1 ? scale * (p - hot) : 0.0f);
                }
            }
        }
    }

    /**
     * {@code C[0] = Σ A[r]} (in double, rounded once) and {@code D[0]} = the rows whose target (int heap at
     * {@code B_AT}) is not {@code I1}, over {@code ROWS} rows in order. One item.
     */
    static void ceTotal(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        if (ctx.globalIdx == 0) {
            int rows = meta.get(ROWS);
            int loss = meta.get(A_AT);
            int targets = meta.get(B_AT);
            int ignore = meta.get(I1);
            double s = 0.0;
            int count = 0;
            for (int r = 0; r < rows; r++) {
                s += heap.get(loss + r);
                count += ints.get(targets + r) != ignore ? 1 : 0;
            }
            heap.set(meta.get(C_AT), (float) s);
            heap.set(meta.get(D_AT), (float) count);
        }
    }

    /**
     * One AdamW step per element ({@code AdamWRequest}, {@code torch.optim.AdamW}): params A, grads B, exp_avg C,
     * exp_avg_sq D, the step's constants in {@code fmeta} (computed on the host in double): F0 max norm, F1
     * {@code 1 − lr·wd}, F2 β1, F3 {@code 1 − β1}, F4 β2, F5 {@code 1 − β2}, F6 {@code −lr/bc1}, F7 {@code √bc2},
     * F8 ε. With clipping ({@code I0} 1) every item reads the squared norm at {@code I1} and forms
     * {@code min(1, maxNorm / (√ss + 1e-6))} (clip_grad_norm_'s formula, fp32). Square roots and divisions in
     * double, rounded once: correctly rounded, as the cpu backend's.
     */
    static void adamw(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int i = ctx.globalIdx;
        if (i < meta.get(N)) {
            float clip = 1.0f;
            if (meta.get(I0) != 0) {
                float norm = (float) TornadoMath.sqrt((double) heap.get(meta.get(I1)));
                float factor = (float) ((double) fmeta.get(F0) / (double) (norm + 1e-6f));
                clip = TornadoMath.min(1.0f, factor);
            }
            int p = meta.get(A_AT) + i;
            int m = meta.get(C_AT) + i;
            int v = meta.get(D_AT) + i;
            float grad = heap.get(meta.get(B_AT) + i) * clip;
            float param = heap.get(p) * fmeta.get(F1);
            float mi = fmeta.get(F3) * grad + fmeta.get(F2) * heap.get(m);
            float vi = (fmeta.get(F5) * grad) * grad + fmeta.get(F4) * heap.get(v);
            float root = (float) TornadoMath.sqrt((double) vi);
            float denom = (float) ((double) root / (double) fmeta.get(F7)) + fmeta.get(F8);
            float ratio = (float) ((double) mi / (double) denom);
            heap.set(p, fmeta.get(F6) * ratio + param);
            heap.set(m, mi);
            heap.set(v, vi);
        }
    }

    /**
     * Sum of squares, pass 1: item {@code g} sums {@code A[g·COLS, min(N, (g + 1)·COLS))} in order (one fma chain)
     * into {@code C[g]}, for {@code g < ROWS}.
     */
    static void sumSquares(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int g = ctx.globalIdx;
        if (g < meta.get(ROWS)) {
            int chunk = meta.get(COLS);
            int from = g * chunk;
            int to = TornadoMath.min(meta.get(N), from + chunk);
            int x = meta.get(A_AT);
            float s = 0.0f;
            for (int i = from; i < to; i++) {
                float e = heap.get(x + i);
                s = e * e + s;
            }
            heap.set(meta.get(C_AT) + g, s);
        }
    }

    /** Pass 2: {@code D[0] += Σ C[g]} for {@code g < ROWS}, in order, by one item. */
    static void sumInto(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        if (ctx.globalIdx == 0) {
            int parts = meta.get(ROWS);
            int partial = meta.get(C_AT);
            float s = 0.0f;
            for (int g = 0; g < parts; g++) {
                s = s + heap.get(partial + g);
            }
            int acc = meta.get(D_AT);
            heap.set(acc, heap.get(acc) + s);
        }
    }

    /**
     * Uniform fill of {@code C}'s {@code N} elements ({@code UniformRequest}): element {@code n} takes word
     * {@code n & 3} of Philox4x32-10 under key {@code (I0, I1)} (lo, hi of the seed) and counter
     * {@code (lo(n >> 2), hi(n >> 2), I2, I3)} (I2, I3: lo, hi of the offset), {@code u = (w >>> 8)·2⁻²⁴} (exact),
     * value {@code u·F1 + F0} (one rounding; F1 = high − low). One item per block of four elements.
     */
    static void philoxUniform(KernelContext ctx, FloatArray heap, IntArray ints, IntArray meta, FloatArray fmeta) {
        int block = ctx.globalIdx;
        int n = meta.get(N);
        int first = block * 4;
        if (first < n) {
            // Blocks are below 2^28 (a heap holds at most 2^30 elements): the counter's high word is 0.
            int c0 = block;
            int c1 = 0;
            int c2 = meta.get(I2);
            int c3 = meta.get(I3);
            int k0 = meta.get(I0);
            int k1 = meta.get(I1);
            for (int round = 0; round < 10; round++) {
                long p0 = 0xD2511F53L * ((long) c0 & 0xFFFFFFFFL);
                long p1 = 0xCD9E8D57L * ((long) c2 & 0xFFFFFFFFL);
                int y = c1;
                int w = c3;
                c0 = (int) (p1 >> 32) ^ y ^ k0;
                c1 = (int) p1;
                c2 = (int) (p0 >> 32) ^ w ^ k1;
                c3 = (int) p0;
                k0 = k0 + 0x9E3779B9;
                k1 = k1 + 0xBB67AE85;
            }
            float low = fmeta.get(F0);
            float range = fmeta.get(F1);
            int out = meta.get(C_AT) + first;
            int left = n - first;
            heap.set(out, unit(c0) * range + low);
            if (left > 1) {
                heap.set(out + 1, unit(c1) * range + low);
            }
            if (left > 2) {
                heap.set(out + 2, unit(c2) * range + low);
            }
            if (left > 3) {
                heap.set(out + 3, unit(c3) * range + low);
            }
        }
    }

    /** {@code (word >>> 8)·2⁻²⁴}, the shift on a zero-extended long (TornadoVM emits int {@code >>>} as {@code >>}). */
    private static float unit(int word) {
        int u24 = (int) (((long) word & 0xFFFFFFFFL) >> 8);
        return u24 * 5.9604645E-8f;
    }
}
