"""PyTorch GEMM throughput, the reference run beside CudaGemmBench: torch.matmul into an existing C and F.linear,
on the shapes CudaGemmBench.SHAPES lists, with the same FLOP count (2·M·N·K) and output format:
    RESULT impl=torch op=matmul dtype=bf16 m=8192 n=8192 k=8192 ms=1.234 tflops=890.12
PyTorch calls cuBLAS/cuBLASLt itself, so this is cuBLAS's own rate on the machine. Like attn4j it accumulates in fp32
with no reduced-precision split-K reduction and no TF32 (set explicitly below, whatever PyTorch's defaults).
Usage: python3 gemm_bench.py [iterations] [--device cpu --small]   (the second form is a smoke test without a GPU)
"""
import sys
import time

import torch
import torch.nn.functional as F

SHAPES = [("bf16", 8192, 8192, 8192), ("f16", 8192, 8192, 8192), ("f32", 4096, 4096, 4096),
          ("bf16", 16384, 4096, 4096), ("bf16", 16384, 11008, 4096)]
DTYPES = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    iterations = int(args[0]) if args else 20
    device = torch.device(sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cuda")
    shapes = [(t, 64, 48, 32) for t, *_ in SHAPES] if "--small" in sys.argv else SHAPES
    matmul = torch.backends.cuda.matmul
    matmul.allow_tf32 = False
    for flag in ("allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction"):
        try:
            setattr(matmul, flag, False)
        except (AssertionError, AttributeError):
            print(f"note: this torch has no {flag}")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device: {name}, torch {torch.__version__}, cuda {torch.version.cuda}")
    for tag, m, n, k in shapes:
        dtype = DTYPES[tag]
        if device.type == "cpu" and dtype == torch.float16:
            continue  # no fp16 GEMM on some CPU builds; the smoke test needs none
        a = torch.full((m, k), 0.01, device=device, dtype=dtype)
        w = torch.full((n, k), 0.02, device=device, dtype=dtype)
        c = torch.empty((m, n), device=device, dtype=dtype)
        wt = w.t()
        report("matmul", tag, m, n, k, timed(iterations, device, lambda: torch.matmul(a, wt, out=c)))
        report("linear", tag, m, n, k, timed(iterations, device, lambda: F.linear(a, w)))


def timed(iterations, device, op):
    for _ in range(2):
        op()
    if device.type == "cuda":
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iterations):
            op()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / iterations
    t0 = time.perf_counter()
    for _ in range(iterations):
        op()
    return (time.perf_counter() - t0) * 1e3 / iterations


def report(op, tag, m, n, k, ms):
    print(f"RESULT impl=torch op={op} dtype={tag} m={m} n={n} k={k} ms={ms:.3f} "
          f"tflops={2.0 * m * n * k / (ms / 1e3) / 1e12:.2f}")


if __name__ == "__main__":
    main()
