#!/usr/bin/env python3
"""Writes the model-op fixtures of attn4j's conformance suite: what PyTorch computes for linear layers, GELU,
cross-entropy and AdamW, for OpFixtureReplayTest to replay on every backend that declares the port.

Each case is one safetensors file in ../resources/fixtures/ops/ holding the inputs (float32 values, or int32 ids),
the expected outputs as float64 tensors named expected.<output>, and __metadata__ with op (linear, gelu,
linear_cross_entropy, adamw), the options, the torch version, and ref_err.<output> = max|golden - ref32| per output,
so a reader applies PyTorch's pass rule max(1e-5, 5 * ref_err) without an oracle (DESIGN §7):

  linear_bias, linear_no_bias    x [2, 3, 7] (or [5, 7]), weight [11, 7] (torch.nn.Linear's [out, in]), bias [11],
                                 dy; expected y = F.linear(x, weight, bias) and, by autograd of (y * dy).sum(),
                                 dx, dweight, dbias
  gelu_exact, gelu_tanh          x [4, 33] over [-8, 8] (tails and 0), dy; expected y = F.gelu(x, approximate=...)
                                 and dx by autograd
  cross_entropy, cross_entropy_ignore_minus_one
                                 hidden [3, 5, 16] (rows), weight [37, 16], bias [37], targets [3, 5] with some rows
                                 at the ignore index; logits = hidden @ weight.T + bias (explicit), then
                                 F.cross_entropy(logits, targets, ignore_index=...): expected loss_sum
                                 (reduction='sum'), count, per_token (reduction='none'), and dhidden, dweight, dbias
                                 of the MEAN loss (reduction='mean'), i.e. gradScale = 1/count
  adamw_1step_wd, adamw_10steps_wd, adamw_1step_clip, adamw_10steps_clip
                                 two parameters w [4, 6] and b [6] (one group), grads.w / grads.b [steps, ...]: the
                                 same gradient sequence fed to torch.optim.AdamW (lr, betas, eps, weight_decay in the
                                 metadata), with torch.nn.utils.clip_grad_norm_([w, b], max_norm) before each step in
                                 the clip cases (over both tensors: a global norm); expected w, b and their
                                 exp_avg / exp_avg_sq after the last step

Golden values are PyTorch in float64 on the stored inputs; the same in float32 is the ref. Inputs are drawn in
float32, so they are exact in every precision the replay uses.

Run with Debian's interpreter (python3-torch, numpy):
    PATH=$(getconf PATH) python3 -B make_op_fixtures.py
The safetensors files are written by hand (make_fixtures.py's writer), as the safetensors package is not needed.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import write_safetensors, max_abs_error  # noqa: E402  (the one writer of the project's fixtures)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "resources", "fixtures", "ops"))


def f32(gen, *shape, scale=1.0):
    """float32 values (so exact in float64 too)."""
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(torch.float32)


def save(name, op, inputs, golden, ref, options):
    metadata = {"op": op, "torch_version": torch.__version__}
    metadata.update({k: repr(v) if isinstance(v, float) else str(v) for k, v in options.items()})
    tensors = dict(inputs)
    for out, g in golden.items():
        tensors["expected." + out] = g.to(torch.float64).reshape(g.shape)
        metadata["ref_err." + out] = repr(float(max_abs_error(g, ref[out])))
    write_safetensors(os.path.join(OUT, name + ".safetensors"), tensors, metadata)
    print(f"{name}: " + ", ".join(f"{k} {tuple(v.shape)}" for k, v in golden.items()))


# ---------------------------------------------------------------------------------------------- linear


def linear(x, w, b, dy, dtype):
    x = x.to(dtype).clone().requires_grad_(True)
    w = w.to(dtype).clone().requires_grad_(True)
    b = b.to(dtype).clone().requires_grad_(True) if b is not None else None
    y = F.linear(x, w, b)
    (y * dy.to(dtype)).sum().backward()
    out = {"y": y.detach(), "dx": x.grad, "dweight": w.grad}
    if b is not None:
        out["dbias"] = b.grad
    return out


def make_linear(gen):
    for name, lead, bias in (("linear_bias", (2, 3), True), ("linear_no_bias", (5,), False)):
        x = f32(gen, *lead, 7)
        w = f32(gen, 11, 7, scale=1 / math.sqrt(7))
        b = f32(gen, 11, scale=0.5) if bias else None
        dy = f32(gen, *lead, 11)
        inputs = {"x": x, "weight": w, "dy": dy}
        if bias:
            inputs["bias"] = b
        save(name, "linear", inputs, linear(x, w, b, dy, torch.float64), linear(x, w, b, dy, torch.float32),
             {"layout": "out_in"})


# ---------------------------------------------------------------------------------------------- GELU


def gelu(x, dy, approximate, dtype):
    x = x.to(dtype).clone().requires_grad_(True)
    y = F.gelu(x, approximate=approximate)
    (y * dy.to(dtype)).sum().backward()
    return {"y": y.detach(), "dx": x.grad}


def make_gelu(gen):
    for name, approximate in (("gelu_exact", "none"), ("gelu_tanh", "tanh")):
        x = (torch.rand(4, 33, generator=gen, dtype=torch.float64) * 16 - 8).to(torch.float32)
        x[0, :3] = torch.tensor([0.0, -0.0, 1e-3])
        dy = f32(gen, 4, 33)
        save(name, "gelu", {"x": x, "dy": dy}, gelu(x, dy, approximate, torch.float64),
             gelu(x, dy, approximate, torch.float32), {"approximate": approximate})


# ---------------------------------------------------------------------------------------------- cross-entropy


def cross_entropy(h, w, b, targets, ignore, dtype):
    """Explicit logits, then F.cross_entropy: sum, count, per-token, and the mean loss's gradients."""
    h = h.to(dtype).clone().requires_grad_(True)
    w = w.to(dtype).clone().requires_grad_(True)
    b = b.to(dtype).clone().requires_grad_(True)
    t = targets.to(torch.int64).reshape(-1)
    logits = h.reshape(-1, h.shape[-1]) @ w.t() + b
    with torch.no_grad():
        loss_sum = F.cross_entropy(logits, t, ignore_index=ignore, reduction="sum")
        per_token = F.cross_entropy(logits, t, ignore_index=ignore, reduction="none")
    F.cross_entropy(logits, t, ignore_index=ignore, reduction="mean").backward()
    count = (t != ignore).sum().to(dtype)
    return {"loss_sum": loss_sum.reshape(1), "count": count.reshape(1), "per_token": per_token.reshape(targets.shape),
            "dhidden": h.grad, "dweight": w.grad, "dbias": b.grad}


def make_cross_entropy(gen):
    for name, ignore in (("cross_entropy", -100), ("cross_entropy_ignore_minus_one", -1)):
        h = f32(gen, 3, 5, 16)
        w = f32(gen, 37, 16, scale=2 / math.sqrt(16))
        b = f32(gen, 37, scale=0.5)
        targets = torch.randint(0, 37, (3, 5), generator=gen, dtype=torch.int32)
        targets[0, 1] = ignore
        targets[2, 4] = ignore
        targets[1, 0] = ignore
        save(name, "linear_cross_entropy", {"hidden": h, "weight": w, "bias": b, "targets": targets},
             cross_entropy(h, w, b, targets, ignore, torch.float64),
             cross_entropy(h, w, b, targets, ignore, torch.float32),
             {"ignore_index": ignore, "grad_scale": "1/count"})


# ---------------------------------------------------------------------------------------------- AdamW


def adamw(w0, b0, grads_w, grads_b, options, dtype):
    w = w0.to(dtype).clone().requires_grad_(True)
    b = b0.to(dtype).clone().requires_grad_(True)
    opt = torch.optim.AdamW([w, b], lr=options["lr"], betas=(options["beta1"], options["beta2"]),
                            eps=options["eps"], weight_decay=options["weight_decay"])
    for step in range(grads_w.shape[0]):
        w.grad = grads_w[step].to(dtype).clone()
        b.grad = grads_b[step].to(dtype).clone()
        if options["max_norm"] > 0:
            torch.nn.utils.clip_grad_norm_([w, b], options["max_norm"])
        opt.step()
    sw, sb = opt.state[w], opt.state[b]
    return {"w": w.detach(), "b": b.detach(), "exp_avg.w": sw["exp_avg"], "exp_avg_sq.w": sw["exp_avg_sq"],
            "exp_avg.b": sb["exp_avg"], "exp_avg_sq.b": sb["exp_avg_sq"]}


def make_adamw(gen):
    cases = (
        ("adamw_1step_wd", 1, 0.01, 0.0),
        ("adamw_10steps_wd", 10, 0.1, 0.0),
        ("adamw_1step_clip", 1, 0.0, 0.5),
        ("adamw_10steps_clip", 10, 0.0, 1.0),
    )
    for name, steps, wd, max_norm in cases:
        options = {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": wd, "max_norm": max_norm,
                   "steps": steps}
        w0 = f32(gen, 4, 6)
        b0 = f32(gen, 6, scale=0.5)
        grads_w = f32(gen, steps, 4, 6)
        grads_b = f32(gen, steps, 6, scale=0.5)
        inputs = {"w": w0, "b": b0, "grads.w": grads_w, "grads.b": grads_b}
        save(name, "adamw", inputs, adamw(w0, b0, grads_w, grads_b, options, torch.float64),
             adamw(w0, b0, grads_w, grads_b, options, torch.float32), options)


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(20261205)
    make_linear(gen)
    make_gelu(gen)
    make_cross_entropy(gen)
    make_adamw(gen)


if __name__ == "__main__":
    main()
