"""Reference figures on this machine for docs/benchmarks.md: OpenBLAS sgemm and PyTorch's CPU attention.

Run with Debian's interpreter and packages (python3-numpy, python3-torch, libopenblas0-pthread):
    OPENBLAS_CORETYPE=SkylakeX PATH=$(getconf PATH) python3 benchmarks/src/main/python/cpu_reference.py
OPENBLAS_CORETYPE is needed because Debian's OpenBLAS takes this AVX-512 CPU for Haswell.
FLOPs as docs/design.md §8: forward 4*B*H*S*S*D (half when causal), backward 2.5x forward.
"""
import os
import time

import numpy as np
import torch

THREADS = os.cpu_count()
torch.set_num_threads(THREADS)


def best_of(fn, reps=5):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def sgemm(n=2048):
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    t = best_of(lambda: a @ b)
    return 2 * n ** 3 / t / 1e9


def attention(b=1, h=8, s=2048, d=64, causal=False):
    q = torch.randn(b, h, s, d, requires_grad=True)
    k = torch.randn(b, h, s, d, requires_grad=True)
    v = torch.randn(b, h, s, d, requires_grad=True)
    mask = torch.ones(s, s, dtype=torch.bool).triu(1) if causal else None

    def forward():
        scores = q @ k.transpose(-1, -2) / d ** 0.5
        if mask is not None:
            scores = scores.masked_fill(mask, float("-inf"))
        return torch.softmax(scores, dim=-1) @ v

    with torch.no_grad():
        t_fwd = best_of(forward)
    out = forward()
    grad = torch.randn_like(out)

    def backward():
        o = forward()
        o.backward(grad)

    t_fb = best_of(backward, reps=3)
    t_bwd = max(t_fb - t_fwd, 1e-9)
    flops = 4 * b * h * s * s * d / (2 if causal else 1)
    return flops / t_fwd / 1e9, 2.5 * flops / t_bwd / 1e9, t_fwd * 1e3, t_bwd * 1e3


if __name__ == "__main__":
    print(f"threads: {THREADS}, torch {torch.__version__}, numpy {np.__version__}")
    print(f"OpenBLAS sgemm 2048^3: {sgemm():.1f} GFLOP/s")
    for causal in (False, True):
        f, bw, tf, tb = attention(causal=causal)
        print(f"PyTorch attention B=1 H=8 S=2048 D=64 causal={causal}: forward {tf:.1f} ms = {f:.1f} GFLOP/s, "
              f"backward {tb:.1f} ms = {bw:.1f} GFLOP/s (FLOPs counted as docs/design.md §8)")
