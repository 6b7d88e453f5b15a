#!/usr/bin/env python3
# Run (Debian's python3-torch 1.13; the x-transformers 1.20.0 and einops 0.6.1 checkouts, outside the project):
#   XT_PATH=/work/ext/x-transformers EINOPS_PATH=/work/ext/einops PATH=$(getconf PATH) python3 -B make_adapter_fixtures.py
# Check a directory attn4j saved (keys, shapes, values and config fields against the fixture it came from):
#   PATH=$(getconf PATH) python3 -B make_adapter_fixtures.py --check CASE DIR
"""Adapter fixtures: PEFT's LoRA, rsLoRA, VeRA and PiSSA computed in plain torch on the model fixtures' models.

PEFT cannot be installed here, so its formulas are written out (peft src/peft/tuners/lora/layer.py Linear.forward:
result + lora_B(lora_A(dropout(x))) * scaling, scaling = lora_alpha / r or lora_alpha / sqrt(r) with use_rslora;
src/peft/tuners/vera/layer.py Linear.forward: result + lambda_b * F.linear(lambda_d * F.linear(dropout(x),
vera_A[:, :in]), vera_B[:out, :]); src/peft/tuners/vera/model.py _init_vera_A_vera_B and _kaiming_init for the
projections; src/peft/tuners/lora/layer.py pissa_init for PiSSA). The models are x-transformers 1.20's, built from
../resources/models/<model>.safetensors (weights, ids, mask), with the targeted nn.Linear modules replaced by
wrappers computing those formulas. Dropout is 0 in every case (torch's dropout bits cannot be reproduced; attn4j's
dropout is tested against its own Philox mask).

Writes ../resources/adapters/:
  <case>/adapter_config.json, <case>/adapter_model.safetensors   a PEFT adapter directory, as
      PeftModel.save_pretrained writes it: keys base_model.model.<module>.lora_A.weight (lora_B, vera_lambda_d,
      vera_lambda_b), base_model.vera_A / base_model.vera_B, metadata {"format": "pt"}
  <case>.safetensors   the golden values:
      expected.logits        F64 [B, S, V] the adapted model's logits (mask as in the model fixture)
      expected.loss          F64 [1] mean next-token cross-entropy over the kept targets (the model fixture's loss)
      expected.grad.<key>    F64 d loss / d adapter tensor, for each trained tensor of the adapter file
      expected.step.<key>    F64 the tensor after one torch.optim.AdamW step (lr 1e-2, betas (0.9, 0.999),
                             eps 1e-8, weight_decay 0.01; LoRA: lora_B at lr * loraplus_lr_ratio, lora_A at lr, the
                             groups of PEFT's create_loraplus_optimizer)
      __metadata__: case, model, ref_err.<output> (max |float64 - float32| of each output: PyTorch's pass rule,
      tolerance max(1e-5, 5 ref_err)), loraplus_lr_ratio, lr, weight_decay
  pissa.safetensors   PiSSA's matrices: w (F32 [out, in]), expected.a / expected.b / expected.residual (F64) from
      torch.linalg.svd in float64 with signs normalised (each left singular vector's largest-magnitude entry
      positive, its right vector flipped alike), r 4, lora_alpha 8 (scaling 2); and the randomized variant
      lowrank.w, lowrank.test_matrix (the Gaussian R of get_approximate_basis), lowrank.u / .s / .v: torch's
      _svd_lowrank(w, q=4, niter=4) given that R, checked here against torch.svd_lowrank itself.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_model_fixtures as mmf       # noqa: E402  (the x-transformers import and the safetensors writer)
from check_model_fixtures import read   # noqa: E402  (the safetensors reader)

MODELS = os.path.normpath(os.path.join(HERE, "..", "resources", "models"))
OUT = os.path.normpath(os.path.join(HERE, "..", "resources", "adapters"))
LR, BETAS, EPS, WD = 1e-2, (0.9, 0.999), 1e-8, 0.01
PEFT_FORMAT = "0.20.1.dev0"

CASES = [
    dict(name="lora_gpt_small", model="gpt_small", kind="LORA", r=4, alpha=8, rslora=False,
         targets=["to_q", "to_v", "to_out"], loraplus=4.0, seed=101),
    dict(name="rslora_orca_small", model="orca_small", kind="LORA", r=4, alpha=6, rslora=True,
         targets=r".*\.(to_k|ff\.0\.0)", loraplus=1.0, seed=102),
    dict(name="vera_gpt_small", model="gpt_small", kind="VERA", r=8, targets="all-linear", key=1234,
         save_projection=True, d_initial=0.1, seed=103),
    dict(name="vera_gpt_small_noproj", model="gpt_small", kind="VERA", r=8, targets="all-linear", key=1234,
         save_projection=False, d_initial=0.1, seed=103),
]


# ---------------------------------------------------------------------------------------------- PEFT's formulas


class LoraLinear(nn.Module):
    """peft lora.Linear.forward with dropout 0: base(x) + lora_B(lora_A(x)) * scaling."""

    def __init__(self, base, a, b, scaling):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(a)
        self.lora_B = nn.Parameter(b)
        self.scaling = scaling

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scaling


class VeraLinear(nn.Module):
    """peft vera.Linear.forward with dropout 0: the shared projections sliced to this layer's sizes."""

    def __init__(self, base, vera_a, vera_b, lambda_d, lambda_b):
        super().__init__()
        self.base = base
        self.vera_A, self.vera_B = vera_a, vera_b
        self.vera_lambda_d = nn.Parameter(lambda_d)
        self.vera_lambda_b = nn.Parameter(lambda_b)

    def forward(self, x):
        sliced_a = self.vera_A[:, : self.base.in_features]
        sliced_b = self.vera_B[: self.base.out_features, :]
        return self.base(x) + self.vera_lambda_b * F.linear(self.vera_lambda_d * F.linear(x, sliced_a), sliced_b)


def kaiming_init(shape, generator):
    """peft vera/model.py _kaiming_init: fan_in = shape[1], gain sqrt(2), bound sqrt(3) * gain / sqrt(fan)."""
    tensor = torch.empty(shape)
    fan = shape[1]
    gain = math.sqrt(2)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def targeted(config_targets, key):
    """peft check_target_module_exists: a string is re.fullmatch (or all-linear), a list exact or suffix."""
    import re
    if isinstance(config_targets, str):
        return config_targets.lower() == "all-linear" or re.fullmatch(config_targets, key) is not None
    return key in config_targets or any(key.endswith("." + t) for t in config_targets)


def linear_modules(model):
    """The candidate layers: every nn.Linear of the attention stack (the logits layer is not one, as in attn4j)."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear) and n.startswith("attn_layers.")]


def set_module(model, path, module):
    parent = model.get_submodule(path.rsplit(".", 1)[0])
    setattr(parent, path.rsplit(".", 1)[1], module)


# ---------------------------------------------------------------------------------------------- cases


def adapter_tensors(case, model):
    """The adapter's values (float32), PEFT keys -> tensors, drawn from the case's generator."""
    gen = torch.Generator().manual_seed(case["seed"])
    out = {}
    layers = [(n, m) for n, m in linear_modules(model) if targeted(case["targets"], n)]
    assert layers, case["name"]
    if case["kind"] == "LORA":
        for n, m in layers:
            bound = 1 / math.sqrt(m.in_features)                  # kaiming_uniform_(a=sqrt(5))
            a = (torch.rand(case["r"], m.in_features, generator=gen) * 2 - 1) * bound
            b = torch.randn(m.out_features, case["r"], generator=gen) * 0.1   # trained-looking, not PEFT's zero init
            out[f"base_model.model.{n}.lora_A.weight"] = a
            out[f"base_model.model.{n}.lora_B.weight"] = b
    else:
        max_in = max(m.in_features for _, m in layers)
        max_out = max(m.out_features for _, m in layers)
        proj = torch.Generator(device="cpu").manual_seed(case["key"])   # peft _init_vera_A_vera_B
        out["base_model.vera_A"] = kaiming_init((case["r"], max_in), proj)
        out["base_model.vera_B"] = kaiming_init((max_out, case["r"]), proj)
        for n, m in layers:
            out[f"base_model.model.{n}.vera_lambda_d"] = case["d_initial"] + 0.05 * torch.randn(case["r"], generator=gen)
            out[f"base_model.model.{n}.vera_lambda_b"] = 0.5 * torch.randn(m.out_features, generator=gen)
    return out


def scaling(case):
    return case["alpha"] / (math.sqrt(case["r"]) if case["rslora"] else case["r"])


def run(xt, case, config, state, adapter, ids, mask, dtype):
    """Logits, loss, adapter gradients and one AdamW step of the adapted model in `dtype`."""
    model = mmf.build(xt, config)
    model.load_state_dict(state, strict=True)
    model = model.to(dtype).eval()
    if dtype == torch.float64:
        mmf.float64_softmax(model)
    for p in model.parameters():
        p.requires_grad_(False)                               # the base is frozen
    params = {}
    for n, m in linear_modules(model):
        if not targeted(case["targets"], n):
            continue
        k = f"base_model.model.{n}"
        if case["kind"] == "LORA":
            wrapped = LoraLinear(m, adapter[k + ".lora_A.weight"].to(dtype).clone(),
                                 adapter[k + ".lora_B.weight"].to(dtype).clone(), scaling(case))
            params[k + ".lora_A.weight"] = wrapped.lora_A
            params[k + ".lora_B.weight"] = wrapped.lora_B
        else:
            wrapped = VeraLinear(m, adapter["base_model.vera_A"].to(dtype), adapter["base_model.vera_B"].to(dtype),
                                 adapter[k + ".vera_lambda_d"].to(dtype).clone(),
                                 adapter[k + ".vera_lambda_b"].to(dtype).clone())
            params[k + ".vera_lambda_d"] = wrapped.vera_lambda_d
            params[k + ".vera_lambda_b"] = wrapped.vera_lambda_b
        set_module(model, n, wrapped)
    ids = ids.long()
    logits = model(ids, mask=mask) if mask is not None else model(ids)
    keep = mask if mask is not None else torch.ones_like(ids, dtype=torch.bool)
    loss = mmf.cross_entropy_kept(logits, ids, keep)
    loss.backward()
    out = {"logits": logits.detach(), "loss": loss.detach().reshape(1)}
    for k, p in params.items():
        out["grad." + k] = p.grad.detach().clone()
    if case["kind"] == "LORA":
        a = [p for k, p in params.items() if ".lora_A." in k]
        b = [p for k, p in params.items() if ".lora_B." in k]
        groups = [{"params": a, "lr": LR}, {"params": b, "lr": LR * case["loraplus"]}]
    else:
        groups = [{"params": list(params.values()), "lr": LR}]
    opt = torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
    opt.step()
    for k, p in params.items():
        out["step." + k] = p.detach().clone()
    return out


def peft_config(case, model_name):
    """adapter_config.json as PeftConfig.save_pretrained writes it (dataclasses.asdict, inference_mode true)."""
    common = {"auto_mapping": None, "base_model_name_or_path": f"attn4j fixture {model_name}", "bias": "none",
              "exclude_modules": None, "fan_in_fan_out": False, "inference_mode": True, "layers_pattern": None,
              "layers_to_transform": None, "modules_to_save": None, "peft_type": case["kind"], "r": case["r"],
              "revision": None, "target_modules": case["targets"], "task_type": "CAUSAL_LM",
              "peft_version": PEFT_FORMAT, "some_future_field": {"ignored": True}}
    if case["kind"] == "LORA":
        common.update({"alpha_pattern": {}, "init_lora_weights": True, "lora_alpha": case["alpha"], "lora_bias": False,
                       "lora_dropout": 0.0, "rank_pattern": {}, "use_dora": False, "use_rslora": case["rslora"],
                       "loftq_config": {}, "megatron_config": None, "megatron_core": "megatron.core"})
    else:
        common.update({"d_initial": case["d_initial"], "init_weights": True, "projection_prng_key": case["key"],
                       "save_projection": case["save_projection"], "vera_dropout": 0.0})
    return common


def write_adapter_dir(path, config, tensors):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    mmf.write_safetensors(os.path.join(path, "adapter_model.safetensors"),
                          {k: v.to(torch.float32).contiguous() for k, v in tensors.items()}, {"format": "pt"})


# ---------------------------------------------------------------------------------------------- PiSSA


def normalise_signs(u, v):
    """Each column of u with its largest-magnitude entry positive; v's columns flipped alike."""
    idx = u.abs().argmax(dim=0)
    signs = torch.sign(u[idx, torch.arange(u.shape[1])])
    signs[signs == 0] = 1
    return u * signs, v * signs


def lowrank(a, q, niter, r_matrix):
    """torch._lowrank._svd_lowrank(A, q, niter) with get_approximate_basis's R given (torch 1.13's code, M = None)."""
    m, n = a.shape
    def basis(x, rr):
        qm = torch.linalg.qr(x @ rr).Q
        for _ in range(niter):
            qm = torch.linalg.qr(x.mH @ qm).Q
            qm = torch.linalg.qr(x @ qm).Q
        return qm
    if m < n or n > q:
        qm = basis(a.mT, r_matrix)
        u, s, vh = torch.linalg.svd(a @ qm, full_matrices=False)
        return u, s, qm @ vh.mH
    qm = basis(a, r_matrix)
    u, s, vh = torch.linalg.svd((a.mT @ qm).mT, full_matrices=False)
    return qm @ u, s, vh.mH


def pissa_fixture(gpt_state):
    r, alpha = 4, 8
    s = alpha / r
    w = gpt_state["attn_layers.layers.0.1.to_v.weight"].to(torch.float32)           # [64, 32]
    w64 = w.to(torch.float64)
    v_left, sv, uh = torch.linalg.svd(w64, full_matrices=False)                      # PEFT's names: V, S, Uh
    vr, ur = normalise_signs(v_left[:, :r], uh[:r].mT)
    sr = sv[:r] / s
    lora_a = torch.diag(torch.sqrt(sr)) @ ur.mT
    lora_b = vr @ torch.diag(torch.sqrt(sr))
    residual = w64 - s * lora_b @ lora_a
    # the randomized variant on a wider matrix with a clear spectrum, R given
    gen = torch.Generator().manual_seed(77)
    lw = (torch.randn(24, 40, generator=gen) / math.sqrt(40)).to(torch.float32)
    lw64 = lw.to(torch.float64)
    q, niter = 4, 4
    rows = 24 if (24 < 40 or 40 > q) else 40
    torch.manual_seed(5)
    r_matrix = torch.randn(rows, q, dtype=torch.float64)
    u, sl, v = lowrank(lw64, q, niter, r_matrix)
    torch.manual_seed(5)
    tu, ts, tv = torch.svd_lowrank(lw64, q=q, niter=niter)                           # what PEFT calls
    assert torch.allclose(tu, u, atol=1e-12) and torch.allclose(ts, sl, atol=1e-12) and torch.allclose(tv, v, atol=1e-12)
    u, v = normalise_signs(u, v)
    return {"w": w, "expected.a": lora_a, "expected.b": lora_b, "expected.residual": residual,
            "lowrank.w": lw, "lowrank.test_matrix": r_matrix, "lowrank.u": u, "lowrank.s": sl, "lowrank.v": v}


# ---------------------------------------------------------------------------------------------- main


def load_model_fixture(name):
    tensors, md = read(os.path.join(MODELS, name + ".safetensors"))
    state = {k[len("weights."):]: torch.from_numpy(np.array(v[1])) for k, v in tensors.items() if k.startswith("weights.")}
    ids = torch.from_numpy(np.array(tensors["ids"][1]))
    mask = torch.from_numpy(np.array(tensors["mask"][1])).bool() if "mask" in tensors else None
    return json.loads(md["config"]), state, ids, mask


def main():
    xt_path, einops_path = mmf.checkout_paths(sys.argv)
    xt, xt_version, _ = mmf.import_x_transformers(xt_path, einops_path)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)
    for case in CASES:
        config, state, ids, mask = load_model_fixture(case["model"])
        probe = mmf.build(xt, config)
        adapter = adapter_tensors(case, probe)
        golden = run(xt, case, config, state, adapter, ids, mask, torch.float64)
        ref32 = run(xt, case, config, state, adapter, ids, mask, torch.float32)
        md = {"case": case["name"], "model": case["model"], "x_transformers_version": xt_version,
              "torch_version": torch.__version__, "lr": repr(LR), "weight_decay": repr(WD),
              "loraplus_lr_ratio": repr(case.get("loraplus", 1.0)),
              "generator": "make_adapter_fixtures.py: PEFT's formulas in torch, float64; ref = float32"}
        tensors = {}
        for k, g in golden.items():
            err = mmf.max_abs_error(g, ref32[k])
            scale = float(g.abs().max())
            assert scale == 0 or err / scale <= mmf.AGREEMENT, (case["name"], k, err, scale)
            md["ref_err." + k] = repr(err)
            tensors["expected." + k] = g.to(torch.float64)
        path = os.path.join(OUT, case["name"])
        saved = {k: v for k, v in adapter.items()
                 if case.get("save_projection", True) or k not in ("base_model.vera_A", "base_model.vera_B")}
        write_adapter_dir(path, peft_config(case, case["model"]), saved)
        mmf.write_safetensors(path + ".safetensors", tensors, md)
        print(f"{case['name']:22s} loss {float(golden['loss']):.6f}  ref_err logits {float(md['ref_err.logits']):.1e}"
              f"  {len(adapter)} adapter tensors")
    _, gpt_state, _, _ = load_model_fixture("gpt_small")
    mmf.write_safetensors(os.path.join(OUT, "pissa.safetensors"), pissa_fixture(gpt_state),
                          {"r": "4", "lora_alpha": "8", "niter": "4", "torch_version": torch.__version__})
    print("pissa.safetensors written")


def check(case_name, directory):
    """An attn4j-saved directory: same keys, shapes and values as the fixture adapter it was loaded from, and a config
    PEFT reads (the fields PeftConfig needs, the same values)."""
    fixture = os.path.join(OUT, case_name)
    want, _ = read(os.path.join(fixture, "adapter_model.safetensors"))
    got, got_md = read(os.path.join(directory, "adapter_model.safetensors"))
    assert set(want) == set(got), f"keys differ: {sorted(set(want) ^ set(got))}"
    for k in want:
        assert want[k][1].shape == got[k][1].shape, (k, want[k][1].shape, got[k][1].shape)
        assert np.array_equal(want[k][1], got[k][1]), f"{k}: values differ by {np.abs(want[k][1] - got[k][1]).max()}"
    assert got_md.get("format") == "pt", got_md
    wc = json.load(open(os.path.join(fixture, "adapter_config.json")))
    gc = json.load(open(os.path.join(directory, "adapter_config.json")))
    for field in ["peft_type", "r", "lora_alpha", "use_rslora", "target_modules", "bias", "task_type",
                  "projection_prng_key", "save_projection", "d_initial", "lora_dropout", "vera_dropout"]:
        if field in wc:
            assert gc.get(field) == wc[field], (field, gc.get(field), wc[field])
    print(f"{directory}: {len(got)} tensors, keys, shapes, values and config fields as {fixture}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3])
    else:
        main()
