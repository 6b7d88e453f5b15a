#!/usr/bin/env python3
# Run (Debian's python3-torch 1.13; the two checkouts at tag 1.20.0 and v0.6.1, outside the project):
#   XT_PATH=/work/ext/x-transformers EINOPS_PATH=/work/ext/einops PATH=$(getconf PATH) python3 -B make_model_fixtures.py
# or: python3 -B make_model_fixtures.py XT_PATH EINOPS_PATH.  Writes ../resources/models/*.safetensors.
"""Model parity fixtures: what x-transformers 1.20.0 computes for small Orca, GPT-style and T5-style models.

x-transformers and einops are imported from their checkouts (never copied into the project). Each case is
one safetensors file in ../resources/models/ holding

  weights.<name>        F32  every entry of the model's state_dict, under exactly its state_dict name; this
                             includes the persistent buffers attn_layers.rotary_pos_emb.inv_freq (and .scale
                             with xPos), listed in __metadata__["buffers"]: they have no gradient
  ids                   I32  [B, S] token ids (decoder cases); 0 is the pad id and fills padded positions
  mask                  U8   [B, S] 1 = keep (only the cases that use a padding mask)
  src, tgt              I32  [B, Ss], [B, St] (t5_small), src_mask / tgt_mask U8 likewise
  expected.logits       F64  decoder cases: TransformerWrapper(ids, mask=mask) -> [B, S, V], all positions;
                             t5_small: the decoder's logits for the whole tgt,
                             decoder.net(tgt, context=encoder(src, mask=src_mask), context_mask=src_mask) [B, St, V]
  expected.encoder_out  F64  t5_small only: encoder(src, mask=src_mask, return_embeddings=True) [B, Ss, dim]
  expected.loss         F64  [1], exactly as x-transformers computes it:
                             decoder cases: AutoregressiveWrapper(model)(x, mask=mask[:, :-1]) with
                               x = ids, padded positions set to ignore_index -100 (no mask: plain ids); i.e. the
                               mean over the batch of the cross-entropy of logits[:, :-1] against ids[:, 1:],
                               counting only targets whose mask is 1;
                             t5_small: XTransformer(src, tgt', mask=src_mask) with tgt' = tgt, padded positions
                               set to -100; same mean over targets tgt[:, 1:] whose tgt_mask is 1. tgt_mask is
                               NOT a decoder self-attention mask (XTransformer.forward takes none).
  expected.grad.<name>  F64  d loss / d parameter for every parameter (zeros where PyTorch leaves it None: the
                             t5 encoder's unused to_logits, listed in __metadata__["no_grad_parameters"])

__metadata__: config (the constructor call as JSON; decoders {"num_tokens", ..., "attn_layers": {"kind": "decoder",
...}}, t5 the XTransformer keyword arguments with their enc_/dec_ prefixes), model_class, x_transformers_version,
einops_version, torch_version, loss (how it is computed), ref_err.<output> for every expected tensor, notes.

Golden values are x-transformers run in float64 (model.double() on the stored float32 weights) with one change:
Attend computes its softmax in float32 even for float64 inputs (attend.py: partial(F.softmax, dtype=float32)),
which would put float32 rounding into the golden values, so the float64 run uses a float64 softmax. The same
model in float32, unchanged, is the "ref" of PyTorch's pass rule (DESIGN §7): ref_err.<output> is
max|golden64 - ref32| for each output, and the script asserts that the two runs agree to 1e-4 of each
output's largest magnitude.

attn_flash is False everywhere: torch 1.13 has no scaled_dot_product_attention and Attend asserts torch >= 2.0
for flash=True; the flash path computes the same function (attend.py flash_attn vs forward).

Weights are drawn with a fixed seed, not taken from the model's init (DeepNorm's init is irrelevant to parity):
linear weights N(0, 1/fan_in), embeddings 0.5 N(0, 1), biases 0.1 N(0,1), norm gains and residual scales
1 + 0.1 N(0,1), T5 bias table 0.5 N(0,1), so no bias, gain or scale is trivially 0 or 1.

Reductions against the real presets (to keep all files near 3 MB):
  orca_small / orca_small_mask: Orca's options (alibi_num_heads 4 of 8 heads, rotary_xpos, deepnorm,
    shift_tokens 1, attn_one_kv_head, exact GELU FF x4 with biases, logits with bias) with num_tokens 61
    (Orca 20000), max_seq_len 64 (8192), dim 32 (512), depth 2 (6), attn_dim_head 36 (64). dim_head cannot go
    below 32 with rotary: rotary_emb_dim = max(dim_head // 2, 32) = 32, and a head narrower than that fails in
    apply_rotary_pos_emb; 36 keeps Orca's partial rotation (32 rotated + 4 plain features per head).
    B=2, S=12. The mask case pads row 0 on the right (last 3) and row 1 on the left (first 2): left padding
    exercises query rows with no key at all and the feed-forward token shift, which does not mask padding.
  gpt_small: pre-norm decoder, RMSNorm, rotary (rotary_emb_dim 32 = the whole 32-wide head), GQA 4 heads /
    2 KV heads, SwiGLU (ff_glu + ff_swish, ff_mult 2), no absolute positions; B=2, S=12, row 1 left-padded 3.
  gpt2_small: pre-norm decoder, LayerNorm, exact GELU FF x4, learned absolute positions (max_seq_len 16),
    tied embedding, 4 heads x dim_head 8 = dim 32; B=2, S=12, no mask.
  t5_small: XTransformer dim 32, encoder and decoder depth 2, 4 heads x dim_head 8, T5 relative bias with
    T5's 32 buckets / max distance 128, RMSNorm, GEGLU FF (ff_glu, ff_mult 2), enc vocabulary 59, dec 61;
    B=2, src 24 and tgt 20 tokens (long enough for the logarithmic buckets in both directions), row 1 of src
    right-padded 5, row 1 of tgt right-padded 4.
"""
import json
import math
import os
import struct
import subprocess
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "resources", "models"))
IGNORE_INDEX = -100          # AutoregressiveWrapper's and XTransformer's default ignore_index
PAD_ID = 0                   # their default pad_value: what -100 becomes in the decoder input
SIZE_BUDGET = 3_300_000      # all files together
AGREEMENT = 1e-4             # float64 vs float32 run, relative to each output's largest magnitude


# ---------------------------------------------------------------------------------------------- imports


def checkout_paths(argv):
    xt = argv[1] if len(argv) > 1 else os.environ.get("XT_PATH")
    ein = argv[2] if len(argv) > 2 else os.environ.get("EINOPS_PATH")
    if not xt or not ein:
        sys.exit("give the x-transformers 1.20.0 and einops 0.6.1 checkouts: XT_PATH / EINOPS_PATH or arguments")
    return os.path.abspath(xt), os.path.abspath(ein)


def import_x_transformers(xt_path, einops_path):
    """Imports x_transformers from its checkout; returns (module, version description, einops version)."""
    for p in (einops_path, xt_path):
        if p not in sys.path:
            sys.path.insert(0, p)
    try:
        import packaging.version  # noqa: F401  (x_transformers imports it; Debian's python lacks it)
    except ImportError:
        # pip's vendored copy of the same package stands in; nothing of x-transformers is replaced.
        import pip._vendor.packaging as packaging
        import pip._vendor.packaging.version as packaging_version
        sys.modules["packaging"], sys.modules["packaging.version"] = packaging, packaging_version
    import einops
    import x_transformers
    setup = open(os.path.join(xt_path, "setup.py")).read()
    if "version = '1.20.0'" not in setup:
        sys.exit(f"{xt_path} is not x-transformers 1.20.0 (setup.py)")
    if einops.__version__ != "0.6.1":
        sys.exit(f"{einops_path} is einops {einops.__version__}, not 0.6.1")
    try:
        commit = subprocess.run(["git", "-C", xt_path, "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown commit"
    return x_transformers, f"1.20.0 ({commit})", einops.__version__


# ---------------------------------------------------------------------------------------------- format


DTYPES = {torch.float64: ("F64", 8), torch.float32: ("F32", 4), torch.int32: ("I32", 4), torch.uint8: ("U8", 1)}


def write_safetensors(path, tensors, metadata):
    """Header padded with spaces to 8 bytes; tensors by decreasing element size, then by name; no gaps."""
    order = sorted(tensors.items(), key=lambda kv: (-DTYPES[kv[1].dtype][1], kv[0]))
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in order:
        t = t.detach().contiguous()
        array = t.numpy()
        raw = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


# ---------------------------------------------------------------------------------------------- cases


ORCA_SMALL = {
    "num_tokens": 61, "max_seq_len": 64, "use_abs_pos_emb": False,
    "attn_layers": {"kind": "decoder", "dim": 32, "depth": 2, "heads": 8, "alibi_pos_bias": True,
                    "alibi_num_heads": 4, "rotary_xpos": True, "attn_flash": False, "deepnorm": True,
                    "shift_tokens": 1, "attn_one_kv_head": True, "attn_dim_head": 36},
}
GPT_SMALL = {
    "num_tokens": 61, "max_seq_len": 64, "use_abs_pos_emb": False,
    "attn_layers": {"kind": "decoder", "dim": 32, "depth": 2, "heads": 4, "attn_kv_heads": 2, "attn_dim_head": 32,
                    "rotary_pos_emb": True, "use_rmsnorm": True, "ff_glu": True, "ff_swish": True, "ff_mult": 2,
                    "attn_flash": False},
}
GPT2_SMALL = {
    "num_tokens": 61, "max_seq_len": 16, "use_abs_pos_emb": True, "tie_embedding": True,
    "attn_layers": {"kind": "decoder", "dim": 32, "depth": 2, "heads": 4, "attn_dim_head": 8, "attn_flash": False},
}
T5_SMALL = {
    "dim": 32, "tie_token_emb": False, "ignore_index": IGNORE_INDEX, "pad_value": PAD_ID,
    "enc_num_tokens": 59, "enc_max_seq_len": 64, "enc_depth": 2, "enc_heads": 4, "enc_attn_dim_head": 8,
    "enc_rel_pos_bias": True, "enc_rel_pos_num_buckets": 32, "enc_rel_pos_max_distance": 128,
    "enc_use_rmsnorm": True, "enc_ff_glu": True, "enc_ff_mult": 2,
    "dec_num_tokens": 61, "dec_max_seq_len": 64, "dec_depth": 2, "dec_heads": 4, "dec_attn_dim_head": 8,
    "dec_rel_pos_bias": True, "dec_rel_pos_num_buckets": 32, "dec_rel_pos_max_distance": 128,
    "dec_use_rmsnorm": True, "dec_ff_glu": True, "dec_ff_mult": 2,
}

# padding: per batch row, (left, right) padded positions
CASES = [
    dict(name="orca_small", config=ORCA_SMALL, B=2, S=12, pad=None),
    dict(name="orca_small_mask", config=ORCA_SMALL, B=2, S=12, pad=[(0, 3), (2, 0)]),
    dict(name="gpt_small", config=GPT_SMALL, B=2, S=12, pad=[(0, 0), (3, 0)]),
    dict(name="gpt2_small", config=GPT2_SMALL, B=2, S=12, pad=None),
    dict(name="t5_small", config=T5_SMALL, B=2, Ss=24, St=20, src_pad=[(0, 0), (0, 5)], tgt_pad=[(0, 0), (0, 4)]),
]


def is_seq2seq(config):
    return "attn_layers" not in config


def build(xt, config):
    """The constructor call that `config` writes as JSON (float32, as x-transformers builds it)."""
    if is_seq2seq(config):
        return xt.XTransformer(**config)
    kwargs = dict(config)
    layers = dict(kwargs.pop("attn_layers"))
    kind = layers.pop("kind")
    cls = {"decoder": xt.Decoder, "encoder": xt.Encoder}[kind]
    return xt.TransformerWrapper(attn_layers=cls(**layers), **kwargs)


def randomize(model, gen):
    """Every parameter drawn with the case's generator, so no term of the forward or backward is trivial."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            z = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if name.endswith("relative_attention_bias.weight"):
                value = 0.5 * z                            # scaled by sqrt(dim_head) in the forward
            elif p.dim() == 1 and name.endswith(".bias"):
                value = 0.1 * z                            # linear and LayerNorm biases
            elif p.dim() == 1:
                value = 1.0 + 0.1 * z                      # LayerNorm weight, RMSNorm g, residual_scale
            elif "emb." in name:
                value = 0.5 * z                            # token / absolute position embeddings (tied: logits)
            else:
                value = z / math.sqrt(p.shape[1])          # linear weights [out, in]
            p.copy_(value)


def padding_mask(b, s, pad):
    mask = torch.ones(b, s, dtype=torch.bool)
    for row, (left, right) in enumerate(pad or []):
        mask[row, :left] = False
        mask[row, s - right:] = False
    return mask


def make_inputs(case, gen, vocab):
    """Token ids in [1, V) with PAD_ID at padded positions, and the masks (None when the case has none)."""
    if "Ss" in case:
        src = torch.randint(1, vocab[0], (case["B"], case["Ss"]), generator=gen)
        tgt = torch.randint(1, vocab[1], (case["B"], case["St"]), generator=gen)
        src_mask = padding_mask(case["B"], case["Ss"], case["src_pad"])
        tgt_mask = padding_mask(case["B"], case["St"], case["tgt_pad"])
        return dict(src=src.masked_fill(~src_mask, PAD_ID), tgt=tgt.masked_fill(~tgt_mask, PAD_ID),
                    src_mask=src_mask, tgt_mask=tgt_mask)
    ids = torch.randint(1, vocab[0], (case["B"], case["S"]), generator=gen)
    if case["pad"] is None:
        return dict(ids=ids, mask=None)
    mask = padding_mask(case["B"], case["S"], case["pad"])
    return dict(ids=ids.masked_fill(~mask, PAD_ID), mask=mask)


# ---------------------------------------------------------------------------------------------- runs


def float64_softmax(model):
    """Attend's softmax runs in float32 whatever the input dtype (attn_fn = partial(F.softmax, dtype=float32)
    when qk_norm is off); the golden run needs it in float64. The function is the same."""
    count = 0
    for m in model.modules():
        if type(m).__name__ == "Attend":
            assert not m.qk_norm, "the cases do not use qk_norm"
            m.attn_fn = F.softmax
            count += 1
    assert count > 0


def cross_entropy_kept(logits, ids, keep):
    """Next-token cross-entropy averaged over kept targets: AutoregressiveWrapper's loss written out."""
    target = ids[:, 1:].masked_fill(~keep[:, 1:], IGNORE_INDEX)
    return F.cross_entropy(logits[:, :-1].transpose(1, 2), target, ignore_index=IGNORE_INDEX)


def run(xt, config, state, inputs, dtype):
    """One forward for the logits and one AutoregressiveWrapper / XTransformer loss with backward."""
    model = build(xt, config)
    model.load_state_dict(state, strict=True)
    model = model.to(dtype).eval()                         # every dropout is 0; eval() keeps it so regardless
    if dtype == torch.float64:
        float64_softmax(model)
    out = {}
    if is_seq2seq(config):
        src, tgt = inputs["src"].long(), inputs["tgt"].long()
        src_mask, tgt_mask = inputs["src_mask"], inputs["tgt_mask"]
        with torch.no_grad():
            enc = model.encoder(src, mask=src_mask, return_embeddings=True)
            logits = model.decoder.net(tgt, context=enc, context_mask=src_mask)
        loss = model(src, tgt.masked_fill(~tgt_mask, IGNORE_INDEX), mask=src_mask)
        out["encoder_out"] = enc
        check_loss = cross_entropy_kept(logits, tgt, tgt_mask)
    else:
        ids, mask = inputs["ids"].long(), inputs["mask"]
        wrapper = xt.AutoregressiveWrapper(model, ignore_index=IGNORE_INDEX, pad_value=PAD_ID)
        with torch.no_grad():
            logits = model(ids, mask=mask) if mask is not None else model(ids)
        if mask is None:
            loss = wrapper(ids)
            check_loss = cross_entropy_kept(logits, ids, torch.ones_like(ids, dtype=torch.bool))
        else:
            # the wrapper feeds x[:, :-1] to the model, so the model's mask is mask[:, :-1]
            loss = wrapper(ids.masked_fill(~mask, IGNORE_INDEX), mask=mask[:, :-1])
            check_loss = cross_entropy_kept(logits, ids, mask)
    if dtype == torch.float64:
        # the loss documented in the file, from the full-length logits, is the one x-transformers computed
        gap = abs(float(check_loss) - float(loss))
        assert gap <= 1e-12 * max(1.0, abs(float(loss))), (float(check_loss), float(loss))
    model.zero_grad(set_to_none=True)
    loss.backward()
    out["logits"] = logits
    out["loss"] = loss.detach().reshape(1)
    no_grad = []
    for name, p in model.named_parameters():
        if p.grad is None:
            no_grad.append(name)
        out["grad." + name] = p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p.detach())
    return {k: v.detach() for k, v in out.items()}, no_grad


def max_abs_error(golden, ref):
    return float((golden - ref.to(torch.float64)).abs().max()) if golden.numel() else 0.0


# ---------------------------------------------------------------------------------------------- main


def main():
    xt_path, einops_path = checkout_paths(sys.argv)
    xt, xt_version, einops_version = import_x_transformers(xt_path, einops_path)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".safetensors"):
            os.remove(os.path.join(OUT, old))
    total = 0
    for index, case in enumerate(CASES):
        config = case["config"]
        # weights depend only on the config (orca_small and orca_small_mask share them), inputs on the case
        weight_seed = 20230912 + [c["config"] for c in CASES].index(config)
        torch.manual_seed(weight_seed)                     # for the constructor's own init, overwritten below
        model = build(xt, config)
        randomize(model, torch.Generator().manual_seed(weight_seed))
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        params = {n for n, _ in model.named_parameters()}
        buffers = sorted(k for k in state if k not in params)
        if is_seq2seq(config):
            vocab = (config["enc_num_tokens"], config["dec_num_tokens"])
        else:
            vocab = (config["num_tokens"],)
        inputs = make_inputs(case, torch.Generator().manual_seed(7000 + index), vocab)

        golden, no_grad = run(xt, config, state, inputs, torch.float64)
        ref32, _ = run(xt, config, state, inputs, torch.float32)

        refs, worst = {}, (0.0, "")
        for name, g in golden.items():
            refs[name] = max_abs_error(g, ref32[name])
            scale = float(g.abs().max()) if g.numel() else 0.0
            if scale > 0:
                rel = refs[name] / scale
                worst = max(worst, (rel, name))
                assert rel <= AGREEMENT, f"{case['name']}: {name} float64 vs float32 differ by {rel:.1e} of its scale"
            else:
                assert refs[name] == 0.0, f"{case['name']}: {name} is zero in float64 but not in float32"
        for name in no_grad:
            assert float(golden["grad." + name].abs().max()) == 0.0

        tensors = {"weights." + k: v.to(torch.float32) for k, v in state.items()}
        for k, v in inputs.items():
            if v is not None:
                tensors[k] = v.to(torch.uint8) if v.dtype == torch.bool else v.to(torch.int32)
        for k, v in golden.items():
            tensors["expected." + k] = v.to(torch.float64)
        if is_seq2seq(config):
            loss_text = ("XTransformer(src, tgt with -100 where tgt_mask == 0, mask=src_mask): mean cross-entropy "
                         "of the decoder logits for tgt[:, :-1] against tgt[:, 1:] over targets with tgt_mask 1 "
                         "(F.cross_entropy, ignore_index -100, mean over the kept targets of the whole batch)")
        elif inputs["mask"] is None:
            loss_text = ("AutoregressiveWrapper(model)(ids): mean cross-entropy of logits[:, :-1] against "
                         "ids[:, 1:] over all B*(S-1) targets")
        else:
            loss_text = ("AutoregressiveWrapper(model)(ids with -100 where mask == 0, mask=mask[:, :-1]): mean "
                         "cross-entropy of logits[:, :-1] against ids[:, 1:] over the targets with mask 1 "
                         "(F.cross_entropy, ignore_index -100, mean over the kept targets of the whole batch)")
        metadata = {
            "case": case["name"],
            "config": json.dumps(config),
            "model_class": "XTransformer" if is_seq2seq(config) else "TransformerWrapper",
            "x_transformers_version": xt_version,
            "einops_version": einops_version,
            "torch_version": torch.__version__,
            "generator": "make_model_fixtures.py: x-transformers in float64 (softmax in float64), ref = float32",
            "loss": loss_text,
            "buffers": ",".join(buffers),
            "no_grad_parameters": ",".join(no_grad),
            "weight_seed": str(weight_seed),
            "attn_flash": "false here (torch 1.13 has no SDPA); the flash path computes the same function",
        }
        for name, err in refs.items():
            metadata["ref_err." + name] = repr(err)
        path = os.path.join(OUT, case["name"] + ".safetensors")
        write_safetensors(path, tensors, metadata)
        size = os.path.getsize(path)
        total += size
        grad_errs = [v for k, v in refs.items() if k.startswith("grad.")]
        print(f"{case['name']:16s} {size:8d} B  params {len(params):3d}  loss {float(golden['loss']):.6f}  "
              f"ref_err logits {refs['logits']:.1e} loss {refs['loss']:.1e} grads max {max(grad_errs):.1e} "
              f"(min {min(grad_errs):.1e})"
              + (f" encoder_out {refs['encoder_out']:.1e}" if "encoder_out" in refs else "")
              + f"  worst rel {worst[0]:.1e} ({worst[1]})")
        for name in sorted(refs):
            print(f"    ref_err.{name} = {refs[name]:.3e}")
    print(f"{len(CASES)} fixtures, {total} bytes in {OUT}")
    if total > SIZE_BUDGET:
        sys.exit(f"model fixtures exceed {SIZE_BUDGET} bytes")


if __name__ == "__main__":
    main()
