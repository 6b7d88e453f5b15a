"""PyTorch scaled_dot_product_attention throughput, the reference run beside CudaAttentionBench.

Same problem (q, k, v [B, S, H, D] in attn4j's layout, transposed to PyTorch's [B, H, S, D] views), same FLOP
count (FlashAttention's: forward 4*B*H*S^2*D, half of it causal; backward 2.5x forward), same output format:
    RESULT impl=torch-sdpa pass=fwd causal=1 ms=1.234 tflops=456.78
Usage: python3 sdpa_bench.py B H S D [iterations]
"""
import sys

import torch
import torch.nn.functional as F


def main():
    b, h, s, d = (int(x) for x in sys.argv[1:5])
    iterations = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    dev = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(dev)}, torch {torch.__version__}")
    gen = torch.Generator(device=dev).manual_seed(1)
    shape = (b, s, h, d)
    q, k, v, do = (torch.randn(shape, device=dev, dtype=torch.bfloat16, generator=gen).transpose(1, 2)
                   for _ in range(4))
    for causal in (False, True):
        flops = 4.0 * b * h * s * s * d * (0.5 if causal else 1.0)
        with torch.no_grad():
            ms = timed(iterations, lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal))
        report("fwd", causal, ms, flops)
        qg, kg, vg = (t.detach().requires_grad_() for t in (q, k, v))

        def backward():
            out = F.scaled_dot_product_attention(qg, kg, vg, is_causal=causal)
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            torch.autograd.grad(out, (qg, kg, vg), do)
            end.record()
            return start, end

        report("bwd", causal, timed_events(iterations, backward), 2.5 * flops)


def timed(iterations, op):
    for _ in range(2):
        op()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        op()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iterations


def timed_events(iterations, op):
    """Mean of the event pairs op returns (only the part between its own events is timed)."""
    for _ in range(2):
        op()
    pairs = [op() for _ in range(iterations)]
    torch.cuda.synchronize()
    return sum(a.elapsed_time(b) for a, b in pairs) / iterations


def report(pass_name, causal, ms, flops):
    print(f"RESULT impl=torch-sdpa pass={pass_name} causal={int(causal)} ms={ms:.3f} tflops={flops / (ms / 1e3) / 1e12:.2f}")


if __name__ == "__main__":
    main()
