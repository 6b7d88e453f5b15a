#!/usr/bin/env python3
# Run (Debian's python3-torch 1.13; x-transformers at tag 1.20.0 and einops v0.6.1 checked out outside the project):
#   XT_PATH=/work/ext/x-transformers EINOPS_PATH=/work/ext/einops PATH=$(getconf PATH) python3 -B make_training_fixtures.py
# Writes ../resources/training/{schedules.json, adamw_steps.safetensors, train_20_steps.safetensors}.
"""Training fixtures: what PyTorch computes for the learning-rate schedules, AdamW with clipping, and 20 steps of
training a small x-transformers model, for the Java trainer to match (DESIGN §7's pass rule; §12).

schedules.json
  For each case {kind, warmup, total, base_lr}: "lrs", the learning rate the optimizer holds for each of the
  `total` optimizer steps, read from optimizer.param_groups[0]["lr"] before optimizer.step() with a
  torch.optim.lr_scheduler.LambdaLR stepped after every optimizer step, as Hugging Face's Trainer does. The
  lambdas are Hugging Face's (transformers/optimization.py, written out below because transformers is not
  installed here): _get_constant_schedule_with_warmup_lr_lambda, _get_linear_schedule_with_warmup_lr_lambda,
  _get_cosine_schedule_with_warmup_lr_lambda (num_cycles 0.5).

adamw_steps.safetensors
  Three parameters (w1 [7, 5] and w2 [4, 6] in a decayed group, b [5] in an undecayed one), three updates with
  fixed gradients (grad.<name>.<t>, t = 1..3), each preceded by torch.nn.utils.clip_grad_norm_ over all three
  (max_norm 0.5: every step clips) and torch.optim.AdamW(lr 1e-2, betas (0.9, 0.95), eps 1e-8, weight decay 0.1
  on the decayed group, 0 on the other). expected.<name>.<t> (F64) after update t from float64 tensors;
  ref_err.<name>.<t> = max|float64 - float32 run|.

train_20_steps.safetensors
  orca_small of make_model_fixtures.py (Orca's options at dim 32, depth 2, vocabulary 61) with its randomised
  weights (weights.<name>, F32), trained 20 optimizer steps on ids (I32 [8, 12]): step s takes rows 4s..4s+3
  (mod 8) as one batch, the loss is AutoregressiveWrapper's (mean next-token cross-entropy over the 4·11 targets),
  then clip_grad_norm_(1.0), torch.optim.AdamW(betas (0.9, 0.999), eps 1e-8; weight decay 0.1 on parameters with
  dim >= 2 (weights and embeddings), 0 on the rest (norm gains and biases, residual scales, biases)), peak lr 3e-3
  on Hugging Face's cosine schedule with 3 warm-up steps over 20. expected.loss [20] (the loss of each step,
  before its update), expected.grad_norm [20] (the global norm clip_grad_norm_ returns), expected.weights.<name>
  after the 20 updates, all F64 from a float64 run (model.double(), Attend's softmax in float64 as
  make_model_fixtures.py does); ref_err.<name> from the same run in float32.
"""
import json
import math
import os
import sys

import torch

import make_model_fixtures as mm

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "resources", "training"))


# ------------------------------------------------------------------------------------- Hugging Face's lambdas


def constant_with_warmup(step, *, warmup):
    if step < warmup:
        return float(step) / float(max(1.0, warmup))
    return 1.0


def linear_with_warmup(step, *, warmup, total):
    if step < warmup:
        return float(step) / float(max(1, warmup))
    return max(0.0, float(total - step) / float(max(1, total - warmup)))


def cosine_with_warmup(step, *, warmup, total, num_cycles=0.5):
    if step < warmup:
        return float(step) / float(max(1, warmup))
    progress = float(step - warmup) / float(max(1, total - warmup))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))


def lambda_for(kind, warmup, total):
    if kind == "constant":
        return lambda s: constant_with_warmup(s, warmup=warmup)
    if kind == "linear":
        return lambda s: linear_with_warmup(s, warmup=warmup, total=total)
    return lambda s: cosine_with_warmup(s, warmup=warmup, total=total)


def scheduled_lrs(kind, warmup, total, base_lr):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda_for(kind, warmup, total))
    lrs = []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


SCHEDULE_CASES = [
    dict(kind="cosine", warmup=10, total=100, base_lr=3e-4),
    dict(kind="cosine", warmup=0, total=7, base_lr=1.0),
    dict(kind="cosine", warmup=3, total=3, base_lr=1e-3),
    dict(kind="linear", warmup=5, total=50, base_lr=5e-5),
    dict(kind="linear", warmup=0, total=1, base_lr=2e-3),
    dict(kind="constant", warmup=4, total=12, base_lr=1e-3),
    dict(kind="constant", warmup=0, total=5, base_lr=0.1),
]


# ------------------------------------------------------------------------------------------------- AdamW


ADAMW = dict(lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, max_norm=0.5, steps=3)


def adamw_run(values, grads, dtype):
    params = {n: torch.nn.Parameter(v.to(dtype).clone()) for n, v in values.items()}
    opt = torch.optim.AdamW([
        {"params": [params["w1"], params["w2"]], "weight_decay": ADAMW["weight_decay"]},
        {"params": [params["b"]], "weight_decay": 0.0},
    ], lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
    out = {}
    for t in range(1, ADAMW["steps"] + 1):
        for n, p in params.items():
            p.grad = grads[(n, t)].to(dtype).clone()
        torch.nn.utils.clip_grad_norm_(list(params.values()), ADAMW["max_norm"])
        opt.step()
        for n, p in params.items():
            out[(n, t)] = p.detach().clone()
    return out


def adamw_fixture():
    gen = torch.Generator().manual_seed(424242)
    shapes = {"w1": (7, 5), "w2": (4, 6), "b": (5,)}
    values = {n: torch.randn(s, generator=gen, dtype=torch.float32) for n, s in shapes.items()}
    grads = {(n, t): 3.0 * torch.randn(s, generator=gen, dtype=torch.float32)
             for t in range(1, ADAMW["steps"] + 1) for n, s in shapes.items()}
    golden = adamw_run(values, grads, torch.float64)
    ref = adamw_run(values, grads, torch.float32)
    tensors, metadata = {}, {}
    for n, v in values.items():
        tensors["value." + n] = v
    for (n, t), g in grads.items():
        tensors[f"grad.{n}.{t}"] = g
    for (n, t), g in golden.items():
        tensors[f"expected.{n}.{t}"] = g
        metadata[f"ref_err.{n}.{t}"] = repr(mm.max_abs_error(g, ref[(n, t)]))
    metadata.update({
        "lr": repr(ADAMW["lr"]), "beta1": repr(ADAMW["betas"][0]), "beta2": repr(ADAMW["betas"][1]),
        "eps": repr(ADAMW["eps"]), "weight_decay": repr(ADAMW["weight_decay"]), "max_norm": repr(ADAMW["max_norm"]),
        "steps": str(ADAMW["steps"]), "decayed": "w1,w2", "undecayed": "b", "torch_version": torch.__version__,
        "generator": "make_training_fixtures.py: torch.optim.AdamW + clip_grad_norm_ in float64; ref = float32",
    })
    mm.write_safetensors(os.path.join(OUT, "adamw_steps.safetensors"), tensors, metadata)
    return {k: float(v) for k, v in ((k, metadata[k]) for k in metadata if k.startswith("ref_err."))}


# --------------------------------------------------------------------------------------- 20 training steps


TRAIN = dict(steps=20, rows=8, batch=4, seq=12, lr=3e-3, warmup=3, betas=(0.9, 0.999), eps=1e-8,
             weight_decay=0.1, max_norm=1.0)


def train_run(xt, config, state, ids, dtype):
    model = mm.build(xt, config)
    model.load_state_dict(state, strict=True)
    model = model.to(dtype).train()                        # no dropout anywhere in the config
    if dtype == torch.float64:
        mm.float64_softmax(model)
    wrapper = xt.AutoregressiveWrapper(model, ignore_index=mm.IGNORE_INDEX, pad_value=mm.PAD_ID)
    decay = [p for _, p in model.named_parameters() if p.dim() >= 2]
    other = [p for _, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": TRAIN["weight_decay"]},
                             {"params": other, "weight_decay": 0.0}],
                            lr=TRAIN["lr"], betas=TRAIN["betas"], eps=TRAIN["eps"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda_for("cosine", TRAIN["warmup"], TRAIN["steps"]))
    losses, norms = [], []
    for s in range(TRAIN["steps"]):
        rows = [(TRAIN["batch"] * s + r) % TRAIN["rows"] for r in range(TRAIN["batch"])]
        x = ids[rows].long()
        loss = wrapper(x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), TRAIN["max_norm"])
        opt.step()
        sched.step()
        losses.append(float(loss))
        norms.append(float(norm))
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return torch.tensor(losses, dtype=torch.float64), torch.tensor(norms, dtype=torch.float64), weights


def train_fixture(xt, xt_version, einops_version):
    config = mm.ORCA_SMALL
    weight_seed = 20231204
    torch.manual_seed(weight_seed)
    model = mm.build(xt, config)
    mm.randomize(model, torch.Generator().manual_seed(weight_seed))
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    params = {n for n, _ in model.named_parameters()}
    buffers = sorted(k for k in state if k not in params)
    ids = torch.randint(1, config["num_tokens"], (TRAIN["rows"], TRAIN["seq"]),
                        generator=torch.Generator().manual_seed(8000))
    g_loss, g_norm, g_weights = train_run(xt, config, state, ids, torch.float64)
    r_loss, r_norm, r_weights = train_run(xt, config, state, ids, torch.float32)
    tensors = {"weights." + k: v.to(torch.float32) for k, v in state.items()}
    tensors["ids"] = ids.to(torch.int32)
    tensors["expected.loss"] = g_loss
    tensors["expected.grad_norm"] = g_norm
    refs = {"loss": mm.max_abs_error(g_loss, r_loss), "grad_norm": mm.max_abs_error(g_norm, r_norm)}
    for k in params:
        tensors["expected.weights." + k] = g_weights[k].to(torch.float64)
        refs["weights." + k] = mm.max_abs_error(g_weights[k], r_weights[k])
    metadata = {
        "config": json.dumps(config),
        "x_transformers_version": xt_version,
        "einops_version": einops_version,
        "torch_version": torch.__version__,
        "generator": "make_training_fixtures.py: 20 steps in float64 (softmax in float64), ref = float32",
        "buffers": ",".join(buffers),
        "weight_seed": str(weight_seed),
        "training": json.dumps(TRAIN),
        "schedule": "cosine",
        "decay": "parameters with dim >= 2",
    }
    for name, err in refs.items():
        metadata["ref_err." + name] = repr(err)
    path = os.path.join(OUT, "train_20_steps.safetensors")
    mm.write_safetensors(path, tensors, metadata)
    print(f"train_20_steps: {os.path.getsize(path)} B, losses {[round(x, 4) for x in g_loss.tolist()]}")
    print(f"  ref_err loss {refs['loss']:.2e} grad_norm {refs['grad_norm']:.2e} weights max "
          f"{max(v for k, v in refs.items() if k.startswith('weights.')):.2e}")
    print(f"  grad norms {[round(x, 3) for x in g_norm.tolist()]}")


def main():
    xt_path, einops_path = mm.checkout_paths(sys.argv)
    xt, xt_version, einops_version = mm.import_x_transformers(xt_path, einops_path)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)
    cases = []
    for c in SCHEDULE_CASES:
        cases.append(dict(c, lrs=scheduled_lrs(c["kind"], c["warmup"], c["total"], c["base_lr"])))
    with open(os.path.join(OUT, "schedules.json"), "w") as f:
        json.dump({"generator": "make_training_fixtures.py: torch.optim.lr_scheduler.LambdaLR with Hugging Face's "
                                "lambdas, lr read before each optimizer.step()",
                   "torch_version": torch.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    refs = adamw_fixture()
    print(f"adamw_steps: ref_err max {max(refs.values()):.2e}")
    train_fixture(xt, xt_version, einops_version)


if __name__ == "__main__":
    main()
