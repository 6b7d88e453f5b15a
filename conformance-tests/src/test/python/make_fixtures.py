#!/usr/bin/env python3
"""Writes the attention fixtures of attn4j's conformance suite (docs/design.md §7).

Each case is one safetensors file in ../resources/fixtures/: the inputs (q, k, v, and where the case uses
them do, startend_row_indices, alibi_slopes, bias_table, dense_mask), the options in __metadata__, and
the expected outputs as float64 tensors named expected.o, expected.lse (+ expected.dq, expected.dk,
expected.dv for attention_backward cases).

The expected values are computed here in float64 straight from docs/design.md §4, with explicit torch ops and
autograd for the gradients (torch 1.13 has no bottom-right causal SDPA). The same code run in float32
gives the "naive computation in the tested dtype" of the pass rule; max|golden - ref32| per output is
stored as metadata ref_err.<name>, so a reader can apply max(1e-5, 5 * ref_err) without an oracle.

Inputs are drawn in float32 and rounded to bfloat16-representable values, so they are exact in every
storage type attn4j uses and the float64 computation sees exactly the stored numbers.

Run with Debian's interpreter (python3-torch, numpy):
    PATH=$(getconf PATH) python3 -B make_fixtures.py
The safetensors files are written by hand (struct + json), as the safetensors package is not needed.
"""
import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "resources", "fixtures"))
NEG_INF = float("-inf")

# ---------------------------------------------------------------------------------------------- format


DTYPES = {torch.float64: ("F64", 8), torch.float32: ("F32", 4), torch.int32: ("I32", 4), torch.bool: ("BOOL", 1)}


def write_safetensors(path, tensors, metadata):
    """Header padded with spaces to 8 bytes; tensors by decreasing element size, then by name; no gaps."""
    order = sorted(tensors.items(), key=lambda kv: (-DTYPES[kv[1].dtype][1], kv[0]))
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in order:
        t = t.detach().contiguous()
        dtype_name, _ = DTYPES[t.dtype]
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dtype_name, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


# ---------------------------------------------------------------------------------------------- reference


def flashmask_masked(rows, sq, h, causal):
    """startend_row_indices [B, Hm, Sk, n] -> boolean [B, H, Sq, Sk], True where the score is masked."""
    rows = rows.clamp(max=sq).to(torch.int64)          # values above Sq act as Sq
    b, hm, sk, n = rows.shape
    r = torch.arange(sq).view(1, 1, sq, 1)
    col = lambda slot: rows[..., slot].view(b, hm, 1, sk)
    if causal and n == 1:
        masked = r >= col(0)
    elif causal and n == 2:
        masked = (r >= col(0)) & (r < col(1))
    elif not causal and n == 2:
        masked = (r >= col(0)) | (r < col(1))
    elif not causal and n == 4:
        masked = ((r >= col(0)) & (r < col(1))) | ((r >= col(2)) & (r < col(3)))
    else:
        raise ValueError(f"n={n} with causal={causal} is not a FlashMask form")
    return masked.repeat_interleave(h // hm, dim=1)     # query head h uses mask head h // (H / Hm)


def attention(case, t, dtype):
    """docs/design.md §4 in `dtype`: returns o [B,Sq,H,D], lse [B,H,Sq] and, for backward cases, dq, dk, dv."""
    q = t["q"].to(dtype).clone().requires_grad_(True)   # never the stored input itself
    k = t["k"].to(dtype).clone().requires_grad_(True)   # never the stored input itself
    v = t["v"].to(dtype).clone().requires_grad_(True)   # never the stored input itself
    b, sq, h, d = q.shape
    sk, hkv = k.shape[1], k.shape[2]
    group = h // hkv
    kk = k.repeat_interleave(group, dim=2)               # head h reads KV head h // (H / Hkv)
    vv = v.repeat_interleave(group, dim=2)
    scale = case.get("scale", 1.0 / math.sqrt(d))
    s = torch.einsum("bqhd,bkhd->bhqk", q, kk) * scale
    c = case.get("softcap", 0.0)
    if c > 0:
        s = c * torch.tanh(s / c)
    off = sk - sq
    i = torch.arange(sq).view(sq, 1)
    j = torch.arange(sk).view(1, sk)
    if "alibi_slopes" in t:
        slopes = t["alibi_slopes"].to(dtype)
        slopes = slopes.view(1, h, 1, 1) if slopes.dim() == 1 else slopes.view(b, h, 1, 1)
        s = s - slopes * (i + off - j).abs().to(dtype)
    if "bias_table" in t:
        idx = j - (i + off) + (sk - 1)                   # index 0 is the farthest key to the left
        s = s + t["bias_table"].to(dtype)[:, idx].unsqueeze(0)
    allowed = torch.ones(b, h, sq, sk, dtype=torch.bool)
    if case.get("causal", False):
        allowed &= j <= i + off
    left, right = case.get("window", (-1, -1))
    if left >= 0:
        allowed &= j >= i + off - left
    if right >= 0:
        allowed &= j <= i + off + right
    if "startend_row_indices" in t:
        allowed &= ~flashmask_masked(t["startend_row_indices"], sq, h, case.get("causal", False))
    if "dense_mask" in t:
        allowed &= t["dense_mask"]
    s = torch.where(allowed, s, torch.tensor(NEG_INF, dtype=dtype))
    m = s.amax(dim=-1, keepdim=True).detach()
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))   # empty rows: exp(-inf - 0) = 0
    e = torch.exp(s - m)
    total = e.sum(dim=-1, keepdim=True)
    nonempty = total > 0
    p = e / torch.where(nonempty, total, torch.ones_like(total))  # empty rows: p = 0, so o = 0
    o = torch.einsum("bhqk,bkhd->bqhd", p, vv)
    with torch.no_grad():
        lse = torch.where(nonempty, m + torch.log(torch.where(nonempty, total, torch.ones_like(total))),
                          torch.tensor(NEG_INF, dtype=dtype)).squeeze(-1)
    out = {"o": o.detach(), "lse": lse}
    if case["op"] == "attention_backward":
        (o * t["do"].to(dtype)).sum().backward()
        out.update(dq=q.grad.detach(), dk=k.grad.detach(), dv=v.grad.detach())
    return out


def max_abs_error(golden, ref):
    """max |golden - ref|, equal infinities counting as 0 (lse of empty rows is -inf in both)."""
    g, r = golden.to(torch.float64), ref.to(torch.float64)
    same = g == r
    diff = torch.where(same, torch.zeros_like(g), (g - r).abs())
    return float(diff.max()) if diff.numel() else 0.0


# ---------------------------------------------------------------------------------------------- cases


def bf16_exact(x):
    return x.to(torch.bfloat16).to(torch.float32)


def make_inputs(case, gen):
    b, sq, sk, h, hkv, d = (case[x] for x in ("B", "Sq", "Sk", "H", "Hkv", "D"))
    rnd = lambda *shape: bf16_exact(torch.randn(*shape, generator=gen))
    t = {"q": rnd(b, sq, h, d), "k": rnd(b, sk, hkv, d), "v": rnd(b, sk, hkv, d)}
    if case["op"] == "attention_backward":
        t["do"] = rnd(b, sq, h, d)
    if "alibi" in case:
        t["alibi_slopes"] = torch.tensor(case["alibi"], dtype=torch.float32)
    if case.get("bias_table"):
        t["bias_table"] = bf16_exact(0.5 * torch.randn(h, sq + sk - 1, generator=gen))
    if "dense_mask" in case:
        mb, mh = case["dense_mask"]
        mask = torch.rand(mb, mh, sq, sk, generator=gen) < 0.7
        mask[0, 0, sq // 2, :] = False                  # one query row with no key at all
        t["dense_mask"] = mask
    if "flash" in case:
        n, hm = case["flash"]
        hi = sq + 3                                     # some values above Sq (they act as Sq)
        a = torch.randint(0, hi + 1, (b, hm, sk, n), generator=gen, dtype=torch.int32)
        if n == 2 and not case.get("causal", False):
            # [LTS, UTE]: rows >= LTS or < UTE are masked, so UTE < LTS leaves a band of visible rows
            a[..., 0:2] = a[..., 0:2].sort(dim=-1, descending=True).values
            a[..., 0] += 1
        elif n >= 2:
            a[..., 0:2] = a[..., 0:2].sort(dim=-1).values   # [start, end) pairs ordered
        if n == 4:
            a[..., 2:4] = a[..., 2:4].sort(dim=-1).values
        t["startend_row_indices"] = a
    return t


def base(name, op, B=1, Sq=16, Sk=None, H=2, Hkv=None, D=16, **kw):
    c = dict(name=name, op=op, B=B, Sq=Sq, Sk=Sq if Sk is None else Sk, H=H, Hkv=H if Hkv is None else Hkv, D=D)
    c.update(kw)
    return c


FWD, BWD = "attention_forward", "attention_backward"
CASES = [
    base("plain_d16", BWD, Sq=16, D=16),
    base("plain_d40_nontile", BWD, Sq=23, D=40),
    base("plain_d64_batch2", FWD, B=2, Sq=33, D=64),
    base("plain_d128", BWD, Sq=17, H=1, D=128),
    base("custom_scale", FWD, Sq=16, D=32, scale=0.3),
    base("causal_square", BWD, Sq=19, D=32, causal=True),
    base("causal_sq_lt_sk", BWD, Sq=7, Sk=29, D=32, causal=True),
    base("causal_sq_gt_sk_empty_rows", BWD, Sq=29, Sk=7, D=16, causal=True),
    base("cross_sq_lt_sk", FWD, Sq=5, Sk=37, D=32),
    base("cross_sq_gt_sk", FWD, Sq=37, Sk=5, H=1, D=16),
    base("single_token", BWD, Sq=1, Sk=1, D=64),
    base("decode_mqa_causal", FWD, Sq=1, Sk=40, H=4, Hkv=1, D=64, causal=True),
    base("gqa", BWD, Sq=21, H=4, Hkv=2, D=32),
    base("mqa_causal", BWD, Sq=13, Sk=24, H=4, Hkv=1, D=16, causal=True),
    base("window_both_sides", BWD, Sq=31, D=16, window=(4, 2)),
    base("window_causal", FWD, Sq=26, Sk=31, D=16, causal=True, window=(5, 0)),
    base("window_left_only", FWD, Sq=31, D=16, window=(3, -1)),
    base("softcap", BWD, Sq=20, D=32, softcap=2.0, scale=0.5),
    base("alibi_heads", BWD, Sq=24, H=4, D=16, causal=True, alibi=[0.25, 0.0625, 0.0, 0.00390625]),
    base("alibi_batch_heads", FWD, B=2, Sq=12, Sk=15, H=2, D=16, alibi=[[0.5, 0.125], [0.25, 0.0]]),
    base("bias_table", BWD, Sq=9, Sk=14, D=16, bias_table=True),
    base("dense_mask_broadcast", FWD, Sq=15, D=16, dense_mask=(1, 1)),
    base("dense_mask_per_head", BWD, B=2, Sq=10, Sk=12, D=16, dense_mask=(2, 2)),
    base("flashmask_causal_n1", BWD, Sq=24, D=16, causal=True, flash=(1, 1)),
    base("flashmask_causal_n2_gqa", FWD, Sq=24, H=4, Hkv=2, D=16, causal=True, flash=(2, 2)),
    base("flashmask_n2", BWD, Sq=20, D=16, flash=(2, 1)),
    base("flashmask_n4", BWD, Sq=18, Sk=22, D=16, flash=(4, 2)),
    base("gqa_window_softcap_alibi", FWD, Sq=27, H=4, Hkv=2, D=40, window=(6, -1), softcap=5.0,
         alibi=[0.5, 0.25, 0.125, 0.0625]),
]


def metadata_for(case, refs):
    left, right = case.get("window", (-1, -1))
    md = {
        "op": case["op"],
        "case": case["name"],
        "causal": "true" if case.get("causal", False) else "false",
        "window_left": str(left),
        "window_right": str(right),
        "softcap": repr(float(case.get("softcap", 0.0))),
        "dropout_p": "0.0",
        "seed": "0",
        "offset": "0",
        "generator": f"make_fixtures.py, torch {torch.__version__}, float64 autograd",
    }
    if "scale" in case:
        md["scale"] = repr(float(case["scale"]))
    for name, err in refs.items():
        md["ref_err." + name] = repr(err)
    return md


def self_check():
    """The masked formulation must agree with a plain softmax where nothing is masked."""
    gen = torch.Generator().manual_seed(7)
    case = base("check", FWD, Sq=9, Sk=11, H=2, D=8)
    t = make_inputs(case, gen)
    got = attention(case, t, torch.float64)
    q, k, v = (t[x].double() for x in ("q", "k", "v"))
    s = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(8)
    want = torch.einsum("bhqk,bkhd->bqhd", torch.softmax(s, dim=-1), v)
    assert torch.allclose(got["o"], want, atol=1e-12), "masked formulation disagrees with softmax"
    assert torch.allclose(got["lse"], torch.logsumexp(s, dim=-1), atol=1e-12), "lse disagrees with logsumexp"


def main():
    torch.use_deterministic_algorithms(True)
    self_check()
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".safetensors"):
            os.remove(os.path.join(OUT, old))
    total = 0
    for index, case in enumerate(CASES):
        gen = torch.Generator().manual_seed(1000 + index)
        t = make_inputs(case, gen)
        golden = attention(case, t, torch.float64)
        ref32 = attention(case, t, torch.float32)
        refs = {name: max_abs_error(golden[name], ref32[name]) for name in golden}
        tensors = dict(t)
        for name, value in golden.items():
            tensors["expected." + name] = value
        path = os.path.join(OUT, case["name"] + ".safetensors")
        write_safetensors(path, tensors, metadata_for(case, refs))
        size = os.path.getsize(path)
        total += size
        empty = int((golden["lse"] == NEG_INF).sum())
        print(f"{case['name']:30s} {case['op']:19s} {size:7d} B  empty rows {empty:3d}  "
              + " ".join(f"{k}={v:.1e}" for k, v in refs.items()))
    print(f"{len(CASES)} fixtures, {total} bytes in {OUT}")
    if total > 2_000_000:
        sys.exit("fixtures exceed 2 MB")


if __name__ == "__main__":
    main()
