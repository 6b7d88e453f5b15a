#!/usr/bin/env python3
# Times x-transformers 1.20.0's Orca preset on Debian's torch 1.13 (the PyTorch baseline of issue 15):
#   XT_PATH=/work/ext/x-transformers EINOPS_PATH=/work/ext/einops PATH=$(getconf PATH) \
#       python3 -B benchmarks/src/main/python/xtransformers_baseline.py [--seq 2048] [--batch 1] [--threads 2]
"""x-transformers baseline: Orca forward, training step and generate on the CPU.

Orca = TransformerWrapper(num_tokens=20000, max_seq_len=8192, use_abs_pos_emb=False, attn_layers=Decoder(dim=512,
depth=6, heads=8, alibi_pos_bias=True, alibi_num_heads=4, rotary_xpos=True, attn_flash=True, deepnorm=True,
shift_tokens=1, attn_one_kv_head=True)), built with attn_flash=False because torch 1.13 has no
scaled_dot_product_attention (Attend asserts torch >= 2.0 for flash; the non-flash path computes the same function).

Figures (tokens = batch * seq per call; median of --runs timed calls after --warmup untimed ones):
  forward      model(ids) under torch.no_grad(), eval mode: logits [B, S, 20000]
  train_step   AutoregressiveWrapper(model)(ids of S + 1 tokens) (the model sees S tokens), loss.backward(),
               torch.optim.AdamW step, zero_grad
  generate     AutoregressiveWrapper.generate from a --decode-context-token prompt, --decode-tokens new tokens.
               x-transformers 1.20.0 has no KV cache (it arrived in 1.21.0): every new token re-runs the
               whole prefix, so this is recompute decoding, not cached decoding.
Prints one `name value unit` line per figure (wall-clock figures, plus the process CPU seconds per call) and
the machine's state (load average before and after: the machine may be shared).
"""
import argparse
import os
import platform
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seq", type=int, default=2048)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--runs", type=int, default=5, help="timed forward calls")
    p.add_argument("--train-runs", type=int, default=3, help="timed training steps")
    p.add_argument("--decode-context", type=int, default=1024, help="prompt length for generate (0 = skip)")
    p.add_argument("--decode-tokens", type=int, default=4, help="tokens generated per timed generate call")
    p.add_argument("--decode-runs", type=int, default=3)
    p.add_argument("--xt-path", default=os.environ.get("XT_PATH"))
    p.add_argument("--einops-path", default=os.environ.get("EINOPS_PATH"))
    return p.parse_args()


ARGS = parse_args()
# OpenBLAS (Debian's torch calls it for GEMM) reads its thread count when it loads: set it before torch.
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
os.environ.setdefault("OMP_NUM_THREADS", str(ARGS.threads))

import torch  # noqa: E402

ORCA_LAYERS = dict(dim=512, depth=6, heads=8, alibi_pos_bias=True, alibi_num_heads=4, rotary_xpos=True,
                   attn_flash=False, deepnorm=True, shift_tokens=1, attn_one_kv_head=True)
NUM_TOKENS = 20000


def import_x_transformers(xt_path, einops_path):
    """x_transformers from its checkout (never installed or copied); checks that it is 1.20.0."""
    for p in (einops_path, xt_path):
        sys.path.insert(0, p)
    try:
        import packaging.version  # noqa: F401  (x_transformers imports it; Debian's python lacks it)
    except ImportError:
        import pip._vendor.packaging as packaging
        import pip._vendor.packaging.version as packaging_version
        sys.modules["packaging"], sys.modules["packaging.version"] = packaging, packaging_version
    import einops
    import x_transformers
    if "version = '1.20.0'" not in open(os.path.join(xt_path, "setup.py")).read():
        sys.exit(f"{xt_path} is not x-transformers 1.20.0")
    return x_transformers, einops.__version__


def median_time(fn, warmup, runs):
    """Median, min and max wall time of `runs` calls, and the median process CPU time: on a shared machine
    the CPU seconds show how much of the wall time the process actually ran."""
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), min(times), max(times), statistics.median(cpu)


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def report(name, value, unit, spread=None):
    extra = f"   # median; min..max {spread[0]:.4g}..{spread[1]:.4g}" if spread else ""
    print(f"{name} {value:.4g} {unit}{extra}", flush=True)


def main():
    if not ARGS.xt_path or not ARGS.einops_path:
        sys.exit("give the checkouts: XT_PATH / EINOPS_PATH or --xt-path / --einops-path")
    xt, einops_version = import_x_transformers(os.path.abspath(ARGS.xt_path), os.path.abspath(ARGS.einops_path))
    torch.set_num_threads(ARGS.threads)
    b, s = ARGS.batch, ARGS.seq
    print(f"# machine: {cpu_model()}, {os.cpu_count()} cpus, load average {os.getloadavg()}")
    coretype = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    print(f"# torch {torch.__version__} threads {torch.get_num_threads()}, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}, OPENBLAS_CORETYPE={coretype}, "
          f"python {platform.python_version()}, x-transformers 1.20.0, einops {einops_version}")
    print(f"# Orca (attn_flash=False), batch {b}, seq {s}")

    torch.manual_seed(0)
    model = xt.TransformerWrapper(num_tokens=NUM_TOKENS, max_seq_len=8192, use_abs_pos_emb=False,
                                  attn_layers=xt.Decoder(**ORCA_LAYERS))
    params = sum(p.numel() for p in model.parameters())
    print(f"# parameters {params}")
    gen = torch.Generator().manual_seed(1)

    # forward, no grad
    model.eval()
    ids = torch.randint(0, NUM_TOKENS, (b, s), generator=gen)

    def forward():
        with torch.no_grad():
            model(ids)

    t, lo, hi, cpu = median_time(forward, ARGS.warmup, ARGS.runs)
    report("xtransformers_orca_forward_tokens_per_s", b * s / t, "tokens/s", (b * s / hi, b * s / lo))
    report("xtransformers_orca_forward_s", t, "s", (lo, hi))
    report("xtransformers_orca_forward_cpu_s", cpu, "s")

    # training step: AutoregressiveWrapper loss, backward, AdamW
    model.train()
    wrapper = xt.AutoregressiveWrapper(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    seq_plus_one = torch.randint(0, NUM_TOKENS, (b, s + 1), generator=gen)

    def train_step():
        loss = wrapper(seq_plus_one)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    t, lo, hi, cpu = median_time(train_step, ARGS.warmup, ARGS.train_runs)
    report("xtransformers_orca_train_step_tokens_per_s", b * s / t, "tokens/s", (b * s / hi, b * s / lo))
    report("xtransformers_orca_train_step_s", t, "s", (lo, hi))
    report("xtransformers_orca_train_step_cpu_s", cpu, "s")
    del optimizer

    # generate: no KV cache in 1.20.0, every token recomputes the prefix
    if ARGS.decode_context > 0:
        model.eval()
        prompt = torch.randint(0, NUM_TOKENS, (b, ARGS.decode_context), generator=gen)
        n = ARGS.decode_tokens

        def generate():
            torch.manual_seed(2)
            wrapper.generate(prompt, n)

        t, lo, hi, cpu = median_time(generate, 1 if ARGS.warmup else 0, ARGS.decode_runs)
        report(f"xtransformers_orca_generate_no_kv_cache_ctx{ARGS.decode_context}_tokens_per_s", b * n / t,
               "tokens/s", (b * n / hi, b * n / lo))
        report(f"xtransformers_orca_generate_no_kv_cache_ctx{ARGS.decode_context}_cpu_s_per_token", cpu / n, "s")
    print(f"# load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
