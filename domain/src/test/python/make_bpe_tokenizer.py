"""Writes the small byte-level BPE tokenizer the data tests load through DJL.

No download is possible here (and none is wanted): the file is written by hand in the format of Hugging
Face's `tokenizers` library (`tokenizer.json`), as GPT-2-style byte-level BPE:

* ids 0..255: the 256 bytes, each as its printable stand-in character (the byte-to-unicode table of
  GPT-2's byte-level BPE: printable Latin-1 bytes stand for themselves, the others are moved to 256 + n);
* ids 256..264: nine merges that spell "hello" and " world" (" " is written "Ġ");
* id 265 "<|endoftext|>" and id 266 "<pad>": special added tokens.

With every byte in the vocabulary the tokenizer is lossless on any text. Expected encodings, derived by
hand from the merge ranks, are asserted in HuggingFaceTokenizerTest ("hello world" -> [259, 264]).

Run from the repository root:  PATH=$(getconf PATH) python3 domain/src/test/python/make_bpe_tokenizer.py
"""
import json
import os

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "data", "bpe")


def byte_stand_ins():
    """The character standing for each byte value 0..255, in byte order."""
    printable = set(range(ord("!"), ord("~") + 1)) | set(range(ord("\u00a1"), ord("\u00ac") + 1)) \
        | set(range(ord("\u00ae"), ord("\u00ff") + 1))
    out = []
    moved = 0
    for b in range(256):
        if b in printable:
            out.append(chr(b))
        else:
            out.append(chr(256 + moved))
            moved += 1
    return out


def main():
    chars = byte_stand_ins()
    vocab = {c: i for i, c in enumerate(chars)}
    merges = [("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("\u0120", "w"), ("o", "r"),
              ("\u0120w", "or"), ("l", "d"), ("\u0120wor", "ld")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    assert vocab["hello"] == 259 and vocab["\u0120world"] == 264

    def added(i, content):
        return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}

    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(265, "<|endoftext|>"), added(266, "<pad>")],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": vocab,
            "merges": [a + " " + b for a, b in merges],
        },
    }
    config = {"bos_token": None, "eos_token": "<|endoftext|>", "pad_token": "<pad>",
              "tokenizer_class": "GPT2Tokenizer"}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
