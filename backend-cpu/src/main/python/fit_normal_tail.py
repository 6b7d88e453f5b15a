"""Fits the coefficients of the normal tail Q(t) = P(T > t) in the tau form below, and prints them as Java float
literals. The CPU backend's exact GELU used this form until it moved to the piecewise tables of
fit_normal_tail_table.py (no division, a degree-5 polynomial); the tornado backend's ModelKernels still carries
these coefficients (P0..P11), where a division costs little.

Form (the erfc scheme of Numerical Recipes' erfcc, fitted afresh here for Q and float32):
    Q(t) = tau * exp(P(tau - 1/2) - t^2/2),   tau = k / (k + t),   k = 2*sqrt(2),   t >= 0,
where P is a degree-11 polynomial fitted in Chebyshev nodes to log(Q(t)/tau) + t^2/2 on tau in (0, 1]
(t in [0, inf)): that function is smooth and bounded, tending to -log(k*sqrt(2*pi)) as t -> inf. Fitting
in tau - 1/2 keeps the coefficients small, so Horner's rule in float32 (fma) loses little.

Run with Debian's python3 (numpy, mpmath):  python3 backend-cpu/src/main/python/fit_normal_tail.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
K = 2 * np.sqrt(2)
DEGREE = 11
SHIFT = 0.5


def target(tau):
    t = mp.mpf(K) * (1 / mp.mpf(tau) - 1)
    q = mp.erfc(t / mp.sqrt(2)) / 2
    return float(mp.log(q / tau) + t * t / 2)


def float32_horner(coefficients, x):
    acc = np.full(x.shape, coefficients[-1], dtype=np.float32)
    for a in coefficients[-2::-1]:
        # fma(acc, x, a): the product of two floats is exact in double; one rounding to float after the add
        acc = (acc.astype(np.float64) * x.astype(np.float64) + np.float64(a)).astype(np.float32)
    return acc


def main():
    n = 3000
    nodes = (np.cos(np.pi * (np.arange(n) + 0.5) / n) + 1) / 2
    nodes = nodes[nodes > 1e-6]
    values = np.array([target(v) for v in nodes])
    fit = np.polynomial.chebyshev.Chebyshev.fit(nodes - SHIFT, values, DEGREE, domain=[-SHIFT, 1 - SHIFT])
    coefficients = fit.convert(kind=np.polynomial.Polynomial, domain=[-1, 1], window=[-1, 1]).coef.astype(np.float32)

    check = np.linspace(2e-4, 1, 5001)
    want = np.array([target(v) for v in check])
    got = float32_horner(coefficients, (check.astype(np.float32) - np.float32(SHIFT)).astype(np.float32))
    print("// max |P - log(Q/tau) - t^2/2| in float32: %.3g" % np.max(np.abs(got - want)))
    for i, c in enumerate(coefficients):
        # the shortest decimal that parses back to the same float32, as Java's float parser does
        print("    static final float P%d = %sf;" % (i, np.format_float_positional(c, unique=True)))


if __name__ == "__main__":
    main()
