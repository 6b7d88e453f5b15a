#!/usr/bin/env python3
# Run after make_model_fixtures.py; the x-transformers re-run needs the checkouts (else only file checks run):
#   export XT_PATH=/work/ext/x-transformers EINOPS_PATH=/work/ext/einops
#   PATH=$(getconf PATH) python3 -B check_model_fixtures.py
"""Independent checks of the model fixtures in ../resources/models/.

1. Structure, through a separate minimal safetensors reader: header padded to 8 bytes, contiguous data;
   weights.* all F32; one expected.grad.* (F64, same shape) for every weight that is not a listed buffer
   and none for buffers; ids / src / tgt I32 within the vocabulary, pad id 0 exactly where the mask is 0;
   masks U8 in {0, 1}; expected.logits F64 [B, S, V] with V and dim taken from the config JSON; the
   embedding, logits and first projection shapes agree with the config; a finite ref_err.<name> in the
   metadata for every expected.<name>; versions recorded.
2. The loss written out: expected.loss is recomputed with numpy from expected.logits and the ids/masks
   (log-softmax cross-entropy of positions 0..S-2 against ids 1..S-1, mean over kept targets).
3. With the checkouts: the model is rebuilt from the config JSON, loaded with the stored weights and run
   in float64 again (logits and loss must match to 1e-12), and the stored gradients are checked against
   central differences of the loss along two random directions through all parameters.
4. Always: the forward is recomputed in numpy float64 from the written description of x-transformers 1.20.0
   (the spec the Java models follow, not its code): embeddings, token shift with its mask rules, post-norm
   DeepNorm and pre-norm residuals, LayerNorm/RMSNorm, rotary (NeoX halves) with xPos, ALiBi on some heads,
   T5 buckets scaled by sqrt(dim_head), GQA pairing query head h with KV head h mod G, cross-attention,
   GLU/GELU/SiLU feed-forward, tied or biased logits; empty attention rows give 0. Logits (and the t5
   encoder output) must match expected.* to 1e-10.
"""
import json
import math
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.normpath(os.path.join(HERE, "..", "resources", "models"))
NUMPY = {"F64": "<f8", "F32": "<f4", "I32": "<i4", "U8": "u1"}
EXPECTED_CASES = {"orca_small", "orca_small_mask", "gpt_small", "gpt2_small", "t5_small"}


def read(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    assert n % 8 == 0, "header not padded to 8 bytes"
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", {})
    start = 8 + n
    spans = sorted(e["data_offsets"] for e in header.values())
    assert spans[0][0] == 0 and all(a[1] == b[0] for a, b in zip(spans, spans[1:])), "data not contiguous"
    assert start + spans[-1][1] == len(raw), "trailing bytes"
    tensors = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        array = np.frombuffer(raw[start + a:start + b], NUMPY[e["dtype"]]).reshape(e["shape"])
        tensors[name] = (e["dtype"], array)
    return tensors, metadata


def fail(msg):
    sys.exit("FAILED: " + msg)


def cross_entropy_kept(logits, ids, keep):
    """Mean over kept targets of -log softmax(logits[:, t])[ids[:, t+1]], t = 0..S-2."""
    lg = logits[:, :-1]
    top = lg.max(axis=-1, keepdims=True)
    logp = lg - top - np.log(np.exp(lg - top).sum(axis=-1, keepdims=True))
    target = ids[:, 1:]
    kept = keep[:, 1:].astype(bool)
    picked = np.take_along_axis(logp, target[..., None].astype(np.int64), axis=-1)[..., 0]
    return float(-(picked[kept]).sum() / kept.sum())


def check_file(path):
    tensors, md = read(path)
    case = md.get("case")
    config = json.loads(md["config"])
    seq2seq = md["model_class"] == "XTransformer"
    for key in ("x_transformers_version", "torch_version", "einops_version", "loss"):
        if not md.get(key):
            fail(f"{case}: metadata {key} missing")
    if not md["x_transformers_version"].startswith("1.20.0"):
        fail(f"{case}: made with x-transformers {md['x_transformers_version']}")
    buffers = {b for b in md["buffers"].split(",") if b}
    weights = {k[len("weights."):]: v for k, v in tensors.items() if k.startswith("weights.")}
    grads = {k[len("expected.grad."):]: v for k, v in tensors.items() if k.startswith("expected.grad.")}
    if any(d != "F32" for d, _ in weights.values()):
        fail(f"{case}: a weight is not F32")
    if set(grads) != set(weights) - buffers:
        fail(f"{case}: gradients {sorted(set(grads) ^ (set(weights) - buffers))} do not match the parameters")
    for name, (dtype, g) in grads.items():
        if dtype != "F64" or g.shape != weights[name][1].shape:
            fail(f"{case}: grad {name} is {dtype} {g.shape}, weight {weights[name][1].shape}")
        if not np.isfinite(g).all():
            fail(f"{case}: grad {name} not finite")
    no_grad = {n for n in md["no_grad_parameters"].split(",") if n}
    for name in set(grads) - no_grad:
        if not np.any(grads[name][1] != 0):
            fail(f"{case}: grad {name} is all zero")
    for name in tensors:
        if name.startswith("expected."):
            err = md.get("ref_err." + name[len("expected."):])
            if err is None or not math.isfinite(float(err)):
                fail(f"{case}: ref_err for {name} missing")

    if seq2seq:
        dim, vocab = config["dim"], config["dec_num_tokens"]
        ids, mask = tensors["tgt"][1], tensors["tgt_mask"][1]
        pairs = [("src", "src_mask", config["enc_num_tokens"]), ("tgt", "tgt_mask", vocab)]
        emb = {"encoder.token_emb.emb.weight": (config["enc_num_tokens"], dim),
               "decoder.net.token_emb.emb.weight": (vocab, dim),
               "decoder.net.to_logits.weight": (vocab, dim),
               "encoder.attn_layers.rel_pos.relative_attention_bias.weight":
                   (config["enc_rel_pos_num_buckets"], config["enc_heads"]),
               "decoder.net.attn_layers.rel_pos.relative_attention_bias.weight":
                   (config["dec_rel_pos_num_buckets"], config["dec_heads"])}
        b, s = tensors["src"][1].shape
        if tensors["expected.encoder_out"][1].shape != (b, s, dim):
            fail(f"{case}: encoder_out shape")
    else:
        layers = config["attn_layers"]
        dim, vocab = layers["dim"], config["num_tokens"]
        ids = tensors["ids"][1]
        mask = tensors["mask"][1] if "mask" in tensors else np.ones(ids.shape, np.uint8)
        pairs = [("ids", "mask", vocab)]
        emb = {"token_emb.emb.weight": (vocab, dim)}
        if not config.get("tie_embedding", False):
            emb["to_logits.weight"] = (vocab, dim)
        heads, dh = layers["heads"], layers.get("attn_dim_head", 64)
        kv = 1 if layers.get("attn_one_kv_head") else layers.get("attn_kv_heads", heads)
        first = "attn_layers.layers.0.1." + ("fn." if layers.get("shift_tokens", 0) else "")
        emb[first + "to_q.weight"] = (heads * dh, dim)
        emb[first + "to_k.weight"] = (kv * dh, dim)
    for name, shape in emb.items():
        if name not in weights or weights[name][1].shape != shape:
            fail(f"{case}: weight {name} should be {shape}")
    for ids_name, mask_name, v in pairs:
        dtype, x = tensors[ids_name]
        if dtype != "I32" or x.min() < 0 or x.max() >= v:
            fail(f"{case}: {ids_name} not I32 ids in [0, {v})")
        if mask_name in tensors:
            mdtype, m = tensors[mask_name]
            if mdtype != "U8" or m.shape != x.shape or not set(np.unique(m)) <= {0, 1}:
                fail(f"{case}: {mask_name} not U8 0/1 of the ids' shape")
            if np.any((m == 0) != (x == 0)):
                fail(f"{case}: pad id 0 not exactly at the masked positions of {ids_name}")
    dtype, logits = tensors["expected.logits"]
    if dtype != "F64" or logits.shape != ids.shape + (vocab,):
        fail(f"{case}: expected.logits is {dtype} {logits.shape}")
    dtype, loss = tensors["expected.loss"]
    if dtype != "F64" or loss.shape != (1,) or not np.isfinite(loss).all():
        fail(f"{case}: expected.loss is {dtype} {loss.shape}")
    recomputed = cross_entropy_kept(logits, ids, mask)
    if abs(recomputed - loss[0]) > 1e-12 * max(1.0, abs(loss[0])):
        fail(f"{case}: loss from logits {recomputed!r} != expected.loss {loss[0]!r}")
    print(f"{case:16s} file ok: {len(weights)} weights ({len(buffers)} buffers), {len(grads)} gradients, "
          f"logits {logits.shape}, loss {loss[0]:.6f} = numpy CE from logits")
    return case, tensors, md, config


def rerun(xt_path, einops_path, case, tensors, md, config):
    """Rebuild from the config JSON, reload the stored weights, recompute in float64."""
    sys.path.insert(0, HERE)
    import make_model_fixtures as mmf
    import torch
    xt, _, _ = mmf.import_x_transformers(xt_path, einops_path)
    state = {k[len("weights."):]: torch.from_numpy(v.copy())
             for k, (_, v) in tensors.items() if k.startswith("weights.")}
    inputs = {}
    for name in ("ids", "src", "tgt"):
        if name in tensors:
            inputs[name] = torch.from_numpy(tensors[name][1].astype(np.int64))
    for name in ("mask", "src_mask", "tgt_mask"):
        if name in tensors:
            inputs[name] = torch.from_numpy(tensors[name][1].astype(bool))
    inputs.setdefault("mask", None)
    out, _ = mmf.run(xt, config, state, inputs, torch.float64)
    logits_err = float((out["logits"] - torch.from_numpy(tensors["expected.logits"][1].copy())).abs().max())
    loss_err = abs(float(out["loss"]) - float(tensors["expected.loss"][1][0]))
    if logits_err > 1e-12 or loss_err > 1e-12:
        fail(f"{case}: re-run differs: logits {logits_err:.1e}, loss {loss_err:.1e}")

    # directional derivatives: (L(w + e d) - L(w - e d)) / 2e against sum(grad * d)
    params = sorted(k[len("expected.grad."):] for k in tensors if k.startswith("expected.grad."))
    gen = torch.Generator().manual_seed(11)
    worst = 0.0
    for _ in range(2):
        direction = {n: torch.randn(state[n].shape, generator=gen, dtype=torch.float64) for n in params}
        predicted = sum(float((torch.from_numpy(tensors["expected.grad." + n][1].copy()) * direction[n]).sum())
                        for n in params)
        eps = 1e-5
        losses = []
        for sign in (1, -1):
            shifted = dict(state)
            for n in params:
                shifted[n] = state[n].double() + sign * eps * direction[n]
            losses.append(float(loss_only(mmf, xt, config, shifted, inputs)))
        numeric = (losses[0] - losses[1]) / (2 * eps)
        rel = abs(numeric - predicted) / max(abs(predicted), 1e-12)
        worst = max(worst, rel)
    if worst > 1e-6:
        fail(f"{case}: gradients disagree with central differences by {worst:.1e} (relative)")
    print(f"{case:16s} re-run ok: logits within {logits_err:.1e}, loss within {loss_err:.1e}, "
          f"directional derivatives within {worst:.1e} relative")


def loss_only(mmf, xt, config, state, inputs):
    """The fixture's loss in float64 for float64 weights (loaded after .double(), so no float32 rounding)."""
    import torch
    model = mmf.build(xt, config).double().eval()
    model.load_state_dict(state, strict=True)
    mmf.float64_softmax(model)
    with torch.no_grad():
        if mmf.is_seq2seq(config):
            tgt = inputs["tgt"].masked_fill(~inputs["tgt_mask"], mmf.IGNORE_INDEX)
            return model(inputs["src"], tgt, mask=inputs["src_mask"])
        wrapper = xt.AutoregressiveWrapper(model, ignore_index=mmf.IGNORE_INDEX, pad_value=mmf.PAD_ID)
        if inputs["mask"] is None:
            return wrapper(inputs["ids"])
        return wrapper(inputs["ids"].masked_fill(~inputs["mask"], mmf.IGNORE_INDEX), mask=inputs["mask"][:, :-1])


# ---------------------------------------------------------------------------------------------- spec forward


def erf(x):
    return np.vectorize(math.erf)(x)


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * w + b


def rms_norm(x, g):
    norm = np.sqrt((x * x).sum(-1, keepdims=True))
    return x / np.maximum(norm, 1e-12) * math.sqrt(x.shape[-1]) * g


def alibi_slopes(n):
    def power_of_2(m):
        start = 2.0 ** (-8.0 / m)
        return [start ** (i + 1) for i in range(m)]
    if math.log2(n).is_integer():
        return power_of_2(n)
    p = 2 ** math.floor(math.log2(n))
    return power_of_2(p) + power_of_2(2 * p)[0::2][:n - p]


def t5_bucket(rel, causal, num_buckets, max_distance):
    n = -rel
    ret = 0
    if not causal:
        num_buckets //= 2
        ret = num_buckets if n < 0 else 0
        n = abs(n)
    else:
        n = max(n, 0)
    exact = num_buckets // 2
    if n < exact:
        return ret + n
    large = exact + int(float(np.log(np.float32(n) / np.float32(exact))) / math.log(max_distance / exact)
                        * (num_buckets - exact))
    return ret + min(large, num_buckets - 1)


class SpecLayers:
    """One Encoder/Decoder stack as the notes describe it; `w` maps state_dict names to float64 arrays."""

    def __init__(self, w, prefix, opts, causal):
        self.w, self.p, self.o, self.causal = w, prefix, opts, causal
        self.dim, self.depth, self.heads = opts["dim"], opts["depth"], opts.get("heads", 8)
        self.dh = opts.get("attn_dim_head", 64)
        self.kv = 1 if opts.get("attn_one_kv_head") else opts.get("attn_kv_heads", self.heads)
        self.deep = opts.get("deepnorm", False)
        self.pre = opts.get("pre_norm", True) and not self.deep
        self.rotary = opts.get("rotary_pos_emb", False) or opts.get("rotary_xpos", False)
        self.rot_dim = max(opts.get("rotary_emb_dim") or self.dh // 2, 32)
        self.shift = opts.get("shift_tokens", 0)
        block = ["a", "c", "f"] if opts.get("cross_attend") else ["a", "f"]
        self.types = block * self.depth

    def norm(self, x, name):
        if self.o.get("use_rmsnorm"):
            return rms_norm(x, self.w[name + ".g"])
        return layer_norm(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def bias(self, s):
        """[H, S, S] positional bias of self-attention, or 0."""
        i = np.arange(s)[:, None]
        j = np.arange(s)[None, :]
        out = np.zeros((self.heads, s, s))
        if self.o.get("alibi_pos_bias"):
            n = self.o.get("alibi_num_heads") or self.heads
            for h, slope in enumerate(alibi_slopes(n)):
                out[h] = -np.abs(j - i) * slope
        if self.o.get("rel_pos_bias"):
            table = self.w[self.p + "rel_pos.relative_attention_bias.weight"]
            nb, md = self.o.get("rel_pos_num_buckets", 32), self.o.get("rel_pos_max_distance", 128)
            for a in range(s):
                for b in range(s):
                    out[:, a, b] = table[t5_bucket(b - a, self.causal, nb, md)] * math.sqrt(self.dh)
        return out

    def rotate(self, t, key):
        """NeoX-halves rotary on the first rot_dim features of [B, H, S, dh], xPos scale on queries / 1/scale keys."""
        s, r = t.shape[2], self.rot_dim
        inv = self.w[self.p + "rotary_pos_emb.inv_freq"]
        ang = np.arange(s)[:, None] * inv[None, :]
        ang = np.concatenate([ang, ang], -1)
        scale = np.ones_like(ang)
        if self.o.get("rotary_xpos"):
            zeta = self.w[self.p + "rotary_pos_emb.scale"]
            power = (np.arange(s) - s // 2) / self.o.get("rotary_xpos_scale_base", 512)
            scale = zeta[None, :] ** power[:, None]
            scale = np.concatenate([scale, scale], -1)
            if key:
                scale = 1 / scale
        x, rest = t[..., :r], t[..., r:]
        half = np.concatenate([-x[..., r // 2:], x[..., :r // 2]], -1)
        return np.concatenate([x * np.cos(ang) * scale + half * np.sin(ang) * scale, rest], -1)

    def attention(self, blk, xq, xkv, key_mask, query_mask, causal, bias, rotary):
        w, h, g, dh = self.w, self.heads, self.kv, self.dh
        b_, i_, j_ = xq.shape[0], xq.shape[1], xkv.shape[1]
        q = (xq @ w[blk + "to_q.weight"].T).reshape(b_, i_, h, dh).transpose(0, 2, 1, 3)
        k = (xkv @ w[blk + "to_k.weight"].T).reshape(b_, j_, g, dh).transpose(0, 2, 1, 3)
        v = (xkv @ w[blk + "to_v.weight"].T).reshape(b_, j_, g, dh).transpose(0, 2, 1, 3)
        if rotary:
            q, k = self.rotate(q, False), self.rotate(k, True)
        kv_of = np.arange(h) % g                      # query head h reads KV head h mod G
        s = np.einsum("bhid,bhjd->bhij", q, k[:, kv_of]) / math.sqrt(dh) + bias
        allowed = np.ones((b_, 1, i_, j_), bool)
        if key_mask is not None:
            allowed &= key_mask[:, None, None, :].astype(bool)
        if causal:
            allowed &= (np.arange(j_)[None, :] <= np.arange(i_)[:, None])[None, None]
        s = np.where(allowed, s, -np.inf)
        top = np.max(s, -1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        e = np.exp(s - top)
        total = e.sum(-1, keepdims=True)
        p = e / np.where(total > 0, total, 1.0)      # a row with no key gives 0
        o = np.einsum("bhij,bhjd->bhid", p, v[:, kv_of]).transpose(0, 2, 1, 3).reshape(b_, i_, h * dh)
        out = o @ w[blk + "to_out.weight"].T
        if query_mask is not None:
            out = out * query_mask[:, :, None]
        return out

    def feed_forward(self, blk, x):
        w = self.w
        if self.o.get("ff_swish"):
            act = lambda z: z / (1 + np.exp(-z))                          # SiLU
        else:
            act = lambda z: 0.5 * z * (1 + erf(z / math.sqrt(2)))         # exact GELU
        if self.o.get("ff_glu"):
            z = x @ w[blk + "ff.0.proj.weight"].T + w[blk + "ff.0.proj.bias"]
            value, gate = np.split(z, 2, -1)
            hidden = value * act(gate)
        else:
            hidden = act(x @ w[blk + "ff.0.0.weight"].T + w[blk + "ff.0.0.bias"])
        return hidden @ w[blk + "ff.2.weight"].T + w[blk + "ff.2.bias"]

    def shift_tokens(self, x, mask):
        half = x.shape[-1] // (self.shift + 1)
        parts = [x[..., :half]]
        for amount in range(1, self.shift + 1):
            seg = x[..., amount * half:(amount + 1) * half]
            if mask is not None:
                seg = seg * mask[:, :, None]
            seg = np.concatenate([np.zeros_like(seg[:, :amount]), seg[:, :seg.shape[1] - amount]], 1)
            parts.append(seg)
        parts.append(x[..., (self.shift + 1) * half:])
        return np.concatenate(parts, -1)

    def __call__(self, x, mask, context=None, context_mask=None):
        bias = self.bias(x.shape[1])
        alpha = (2 * self.depth) ** 0.25 if self.deep else 1.0
        for idx, kind in enumerate(self.types):
            lp = f"{self.p}layers.{idx}."
            blk = lp + "1." + ("fn." if self.shift else "")
            u = self.norm(x, lp + "0.0") if self.pre else x
            if self.shift:
                u = self.shift_tokens(u, mask if kind in "ac" else None)   # FF shifts never mask
            if kind == "a":
                out = self.attention(blk, u, u, mask, mask, self.causal, bias, self.rotary)
            elif kind == "c":
                out = self.attention(blk, u, context, context_mask, mask, False, 0.0, False)
            else:
                out = self.feed_forward(blk, u)
            if self.deep:
                x = out + x * self.w[lp + "2.residual_scale"] * alpha
                x = self.norm(x, lp + "0.2")
            else:
                x = out + x
        return self.norm(x, self.p + "final_norm") if self.pre else x


def spec_wrapper(w, prefix, num_tokens_cfg, opts, causal, ids, mask, context=None, context_mask=None,
                 embeddings_only=False):
    x = w[prefix + "token_emb.emb.weight"][ids]
    has_pos = opts.get("rel_pos_bias") or opts.get("rotary_pos_emb") or opts.get("rotary_xpos")
    if num_tokens_cfg.get("use_abs_pos_emb", True) and not has_pos:
        x = x + w[prefix + "pos_emb.emb.weight"][:ids.shape[1]] / math.sqrt(opts["dim"])
    x = SpecLayers(w, prefix + "attn_layers.", opts, causal)(x, mask, context, context_mask)
    if embeddings_only:
        return x
    if num_tokens_cfg.get("tie_embedding"):
        return x @ w[prefix + "token_emb.emb.weight"].T
    return x @ w[prefix + "to_logits.weight"].T + w[prefix + "to_logits.bias"]


def check_spec(case, tensors, config):
    w = {k[len("weights."):]: v.astype(np.float64) for k, (_, v) in tensors.items() if k.startswith("weights.")}
    if "attn_layers" in config:
        opts = {k: v for k, v in config["attn_layers"].items() if k != "kind"}
        ids = tensors["ids"][1].astype(np.int64)
        mask = tensors["mask"][1].astype(np.float64) if "mask" in tensors else None
        logits = spec_wrapper(w, "", config, opts, config["attn_layers"]["kind"] == "decoder", ids, mask)
        errs = {"logits": float(np.abs(logits - tensors["expected.logits"][1]).max())}
    else:
        pick = lambda pre: {k[len(pre):]: v for k, v in config.items() if k.startswith(pre)}
        enc, dec = pick("enc_"), pick("dec_")
        enc_opts = dict({k: v for k, v in enc.items() if k not in ("num_tokens", "max_seq_len")}, dim=config["dim"])
        dec_opts = dict({k: v for k, v in dec.items() if k not in ("num_tokens", "max_seq_len")}, dim=config["dim"],
                        cross_attend=True)
        src_mask = tensors["src_mask"][1].astype(np.float64)
        encoded = spec_wrapper(w, "encoder.", enc, enc_opts, False, tensors["src"][1].astype(np.int64), src_mask,
                               embeddings_only=True)
        logits = spec_wrapper(w, "decoder.net.", dec, dec_opts, True, tensors["tgt"][1].astype(np.int64), None,
                              context=encoded, context_mask=src_mask)
        errs = {"logits": float(np.abs(logits - tensors["expected.logits"][1]).max()),
                "encoder_out": float(np.abs(encoded - tensors["expected.encoder_out"][1]).max())}
    if max(errs.values()) > 1e-10:
        fail(f"{case}: the written spec disagrees with x-transformers: {errs}")
    print(f"{case:16s} spec ok: numpy forward from the notes matches within "
          + ", ".join(f"{k} {v:.1e}" for k, v in errs.items()))


def main():
    files = sorted(f for f in os.listdir(DIR) if f.endswith(".safetensors"))
    found = {f[:-len(".safetensors")] for f in files}
    if found != EXPECTED_CASES:
        fail(f"cases {sorted(found)} != {sorted(EXPECTED_CASES)}")
    checked = [check_file(os.path.join(DIR, f)) for f in files]
    for case, tensors, _, config in checked:
        check_spec(case, tensors, config)
    xt_path, einops_path = os.environ.get("XT_PATH"), os.environ.get("EINOPS_PATH")
    if xt_path and einops_path:
        for item in checked:
            rerun(xt_path, einops_path, *item)
    else:
        print("XT_PATH / EINOPS_PATH not set: x-transformers re-run skipped")
    print("ok")


if __name__ == "__main__":
    main()
