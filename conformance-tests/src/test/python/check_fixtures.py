#!/usr/bin/env python3
"""Independent checks of the fixtures make_fixtures.py wrote (run after it, same interpreter).

1. Forward: every fixture's expected o and lse are recomputed element by element with plain loops in
   numpy float64, written again from docs/design.md §4 without the vectorised code of make_fixtures.py, and read
   back through a separate minimal safetensors reader.
2. Backward: the autograd gradients of make_fixtures.attention are compared with central finite
   differences on small cases that combine masks, biases, GQA and rows with no key.

    PATH=$(getconf PATH) python3 -B check_fixtures.py
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

import make_fixtures as mf

NUMPY = {"F64": "<f8", "F32": "<f4", "I32": "<i4", "BOOL": "u1"}


def read(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", {})
    start = 8 + n
    tensors = {name: np.frombuffer(raw[start + e["data_offsets"][0]:start + e["data_offsets"][1]],
                                   NUMPY[e["dtype"]]).reshape(e["shape"]) for name, e in header.items()}
    return tensors, metadata


def masked_by_flashmask(rows, i, sq, causal):
    vals = [min(int(x), sq) for x in rows]
    if causal and len(vals) == 1:
        return i >= vals[0]
    if causal and len(vals) == 2:
        return vals[0] <= i < vals[1]
    if len(vals) == 2:
        return i >= vals[0] or i < vals[1]
    return vals[0] <= i < vals[1] or vals[2] <= i < vals[3]


def forward_by_loops(t, md):
    q, k, v = (t[x].astype(np.float64) for x in "qkv")
    b_, sq, h_, d = q.shape
    sk, hkv = k.shape[1], k.shape[2]
    scale = float(md["scale"]) if "scale" in md else 1 / math.sqrt(d)
    causal = md["causal"] == "true"
    left, right, cap = int(md["window_left"]), int(md["window_right"]), float(md["softcap"])
    off = sk - sq
    o = np.zeros_like(q)
    lse = np.zeros((b_, h_, sq))
    for b in range(b_):
        for h in range(h_):
            kh = h // (h_ // hkv)
            for i in range(sq):
                s = np.full(sk, -np.inf)
                for j in range(sk):
                    if causal and j > i + off:
                        continue
                    if (left >= 0 and j < i + off - left) or (right >= 0 and j > i + off + right):
                        continue
                    if "startend_row_indices" in t:
                        r = t["startend_row_indices"]
                        if masked_by_flashmask(r[b, h // (h_ // r.shape[1]), j], i, sq, causal):
                            continue
                    if "dense_mask" in t:
                        m = t["dense_mask"]
                        if not m[min(b, m.shape[0] - 1), min(h, m.shape[1] - 1), i, j]:
                            continue
                    x = scale * float(np.dot(q[b, i, h], k[b, j, kh]))
                    if cap > 0:
                        x = cap * math.tanh(x / cap)
                    if "alibi_slopes" in t:
                        sl = t["alibi_slopes"]
                        x -= float(sl[h] if sl.ndim == 1 else sl[b, h]) * abs(i + off - j)
                    if "bias_table" in t:
                        x += float(t["bias_table"][h][j - (i + off) + (sk - 1)])
                    s[j] = x
                if np.all(s == -np.inf):
                    lse[b, h, i] = -np.inf
                    continue
                top = s.max()
                e = np.exp(s - top)
                lse[b, h, i] = top + math.log(e.sum())
                o[b, i, h] = (e / e.sum()) @ v[b, :, kh]
    return o, lse


def diff(a, b):
    same = a == b
    return float(np.where(same, 0.0, np.abs(np.where(same, 0.0, a - b))).max())


def check_forward():
    worst = 0.0
    for f in sorted(os.listdir(mf.OUT)):
        if f.endswith(".safetensors"):
            t, md = read(os.path.join(mf.OUT, f))
            o, lse = forward_by_loops(t, md)
            err = max(diff(o, t["expected.o"]), diff(lse, t["expected.lse"]))
            worst = max(worst, err)
            print(f"forward {f:42s} max|loops - expected| {err:.1e}")
    return worst


def check_backward():
    cases = [mf.base("fd_causal_gqa_softcap_alibi", mf.BWD, Sq=6, Sk=4, H=2, Hkv=1, D=4, causal=True,
                     softcap=2.0, alibi=[0.5, 0.0]),
             mf.base("fd_flash4_table_window", mf.BWD, Sq=5, Sk=7, H=2, D=3, flash=(4, 1), bias_table=True,
                     window=(2, 1)),
             mf.base("fd_dense_mask", mf.BWD, B=2, Sq=5, H=2, D=3, dense_mask=(2, 2))]
    worst = 0.0
    eps = 1e-6
    for case in cases:
        t = mf.make_inputs(case, torch.Generator().manual_seed(3))
        grads = mf.attention(case, t, torch.float64)
        forward = dict(case, op=mf.FWD)
        loss = lambda tt: float((mf.attention(forward, tt, torch.float64)["o"] * t["do"].double()).sum())
        err = 0.0
        for name in "qkv":
            x = t[name].double()
            for idx in range(x.numel()):
                plus, minus = x.clone().flatten(), x.clone().flatten()
                plus[idx] += eps
                minus[idx] -= eps
                numeric = (loss(dict(t, **{name: plus.view_as(x)})) - loss(dict(t, **{name: minus.view_as(x)}))) / (2 * eps)
                err = max(err, abs(numeric - float(grads["d" + name].flatten()[idx])))
        worst = max(worst, err)
        print(f"backward {case['name']:41s} max|finite diff - autograd| {err:.1e}")
    return worst


def main():
    fwd, bwd = check_forward(), check_backward()
    if fwd > 1e-12 or bwd > 1e-7:
        sys.exit(f"FAILED: forward {fwd:.1e} (limit 1e-12), backward {bwd:.1e} (limit 1e-7)")
    print(f"ok: forward within {fwd:.1e}, backward within {bwd:.1e}")


if __name__ == "__main__":
    main()
