"""Fits the tables of the normal tail Q(t) = P(T > t) that the CPU backend's exact GELU uses
(ActivationMath.normalTail) and its base-2 exponential (ActivationMath.pow2), checks the float32 steps against
a float64 reference, and prints the constants as Java float literals.

Form: Q(t) = 2^g(t), g = log2 Q, evaluated piecewise, for 0 <= t <= T0:
    j = round(t) (the interval [j - 1/2, j + 1/2]),  u = t - j (exact, |u| <= 1/2),
    g(t) = N_j + C_j(u),  C_j a degree-5 polynomial, N_j an integer,
    Q = 2^(N_j + m) * 2^r,  m = round(C_j(u)),  r = C_j(u) - m (exact, |r| <= 1/2),
and 2^r by a degree-5 polynomial with constant term 1. Each C_j is a minimax fit (Lawson's iteration) of
g(j + u) - N_j, N_j = round(g(j)): taking the integer out keeps |C_j| below about 10, so the float32 rounding of
the polynomial costs Q a relative ~2^-21*ln2 rather than the ~|g|*2^-24*ln2 (up to 126*2^-24*ln2) of evaluating g
itself. Beyond T0 (where Q drops below the smallest normal float) Q is flushed to 0.

The reference is math.erfc in float64 (relative error ~1e-16, far below float32's): no mpmath needed.

Run with Debian's python3 (numpy):  PATH=$(getconf PATH) python3 backend-cpu/src/main/python/fit_normal_tail_table.py
"""
import math

import numpy as np

DEGREE = 5
EXP2_DEGREE = 5
SLOTS = 16          # one 512-bit vector of floats: the vector twin looks coefficients up with a lane permute
T0 = np.float32(12.9375)  # log2 Q(T0) = -125.8: 2^(N + m) stays a normal float
ROUNDER = np.float32(12582912.0)  # 1.5 * 2^23: adding it rounds to an integer, kept in the low mantissa bits


def log2_q(t):
    return math.log2(math.erfc(t / math.sqrt(2)) / 2)


def lawson(basis, target, weight, iterations=400):
    """Minimax (weighted Chebyshev-norm) coefficients by Lawson's iteratively reweighted least squares."""
    w = np.full(len(target), 1.0 / len(target))
    for _ in range(iterations):
        s = np.sqrt(w) * weight
        c, *_ = np.linalg.lstsq(basis * s[:, None], target * s, rcond=None)
        e = np.abs((basis @ c - target) * weight)
        w = w * e
        w /= w.sum()
    return c


def fit_fixed(powers, target, weight, fixed):
    """Minimax fit of target by sum c_k u^k; coefficients already in `fixed` (k -> float32 value) stay fixed."""
    free = [k for k in range(powers.shape[1]) if k not in fixed]
    rest = target - sum(powers[:, k] * float(v) for k, v in fixed.items())
    c = lawson(powers[:, free], rest, weight)
    return dict(zip(free, c))


def quantized_fit(u, target, weight, degree, fixed=None):
    """Rounds the coefficients to float32 from the highest down, refitting the lower ones after each rounding."""
    powers = np.vstack([u ** k for k in range(degree + 1)]).T
    fixed = dict(fixed or {})
    for k in range(degree, -1, -1):
        if k in fixed:
            continue
        fixed[k] = np.float32(fit_fixed(powers, target, weight, fixed)[k])
    return [fixed[k] for k in range(degree + 1)]


def fit_tail():
    coefficients = np.zeros((DEGREE + 1, SLOTS), dtype=np.float32)
    bias = np.zeros(SLOTS, dtype=np.float32)
    last = int(round(float(T0)))
    for j in range(SLOTS):
        jj = min(j, last)  # slots past the last interval are never used; they repeat it
        lo, hi = max(jj - 0.5, 0.0), min(jj + 0.5, float(T0))
        t = (np.cos(np.pi * (np.arange(1200) + 0.5) / 1200) + 1) / 2 * (hi - lo) + lo
        g = np.array([log2_q(v) for v in t])
        n = round(log2_q(jj))
        c = quantized_fit(t - jj, g - n, np.ones_like(t), DEGREE)
        coefficients[:, j] = c
        bias[j] = ROUNDER + np.float32(n)
    return coefficients, bias


def fit_exp2():
    r = np.linspace(-0.5, 0.5, 4001)
    # relative error of 2^r, with the constant term fixed at 1
    return quantized_fit(r, 2.0 ** r, 2.0 ** -r, EXP2_DEGREE, fixed={0: np.float32(1)})


def fma(a, b, c):
    # float32 fma: the product of two floats is exact in float64; the sum is rounded to float64 and then to
    # float32, which differs from one rounding only in rare ties (irrelevant to the error measured here)
    return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float32)


def exp2(r, e):
    p = np.full(r.shape, e[-1], dtype=np.float32)
    for a in e[-2::-1]:
        p = fma(p, r, np.full(r.shape, a, dtype=np.float32))
    return p


def normal_tail(t, coefficients, bias, e):
    """ActivationMath.normalTail's float32 steps, for float32 t in [0, T0]."""
    k = t + ROUNDER
    j = k.view(np.int32) & (SLOTS - 1)
    u = t - (k - ROUNDER)
    p = coefficients[DEGREE][j]
    for d in range(DEGREE - 1, -1, -1):
        p = fma(p, u, coefficients[d][j])
    b = bias[j]
    m = p + b
    r = p - (m - b)
    scale = ((m.view(np.int32) + 127) << 23).view(np.float32)
    return exp2(r, e) * scale


def main():
    coefficients, bias = fit_tail()
    e = fit_exp2()

    # every float in [0, 1/8) would be 1e9 values; a dense grid plus the interval edges is what matters
    t = np.unique(np.concatenate([np.linspace(0, float(T0), 2_000_001).astype(np.float32),
                                  (np.arange(0, 14) + np.float32(0.5)).astype(np.float32),
                                  np.nextafter((np.arange(1, 14) - 0.5).astype(np.float32), np.float32(0)),
                                  np.array([T0], dtype=np.float32)]))
    t = t[t <= T0]
    got = normal_tail(t, coefficients, bias, e).astype(np.float64)
    want = np.array([math.erfc(v / math.sqrt(2)) / 2 for v in t.astype(np.float64)])
    rel = np.abs(got - want) / want
    r = np.linspace(-0.5, 0.5, 200001).astype(np.float32)
    exp2_rel = np.max(np.abs(exp2(r, e) - 2.0 ** r.astype(np.float64)) / 2.0 ** r.astype(np.float64))
    print("// max relative error of Q on [0, T0] (%d points): %.3g; of 2^r on [-1/2, 1/2]: %.3g"
          % (len(t), np.max(rel), exp2_rel))
    for lo, hi in [(0, 1), (1, 4), (4, 8), (8, 13)]:
        sel = (t >= lo) & (t < hi)
        print("//   t in [%d, %d): %.3g" % (lo, hi, np.max(rel[sel])))

    def array(name, values):
        # the shortest decimal that parses back to the same float32, as Java's float parser does; 120 columns
        items = [np.format_float_positional(np.float32(v), unique=True, trim="0") + "f" for v in values]
        lines, line = [], "    static final float[] %s = {" % name
        for i, item in enumerate(items):
            item += "," if i + 1 < len(items) else "};"
            if len(line) + 1 + len(item) > 120:
                lines.append(line)
                line = "            " + item
            else:
                line += ("" if line.endswith("{") else " ") + item
        print("\n".join(lines + [line]))

    print("    static final float TAIL_T0 = %sf;" % np.format_float_positional(T0, unique=True, trim="0"))
    for d in range(DEGREE + 1):
        array("TAIL_C%d" % d, coefficients[d])
    array("TAIL_BIAS", bias)
    for d in range(1, EXP2_DEGREE + 1):
        print("    static final float EXP2_C%d = %sf;" % (d, np.format_float_positional(e[d], unique=True, trim="0")))


if __name__ == "__main__":
    main()
