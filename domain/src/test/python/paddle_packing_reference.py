"""Expected packs for PackerTest: PaddleNLP's zero padding and greedy zero padding on fixed lengths.

The two rules as PaddleNLP states them (paddlenlp/datasets/zero_padding_dataset.py,
ZeroPaddingMapDataset._create_zero_padding_data and generate_greedy_packs), rewritten here over lengths
only, with numpy where PaddleNLP uses it (a float array of rooms initialised to -1 and argmax, whose
first-maximum tie rule decides between rows with equal room):

* both rules first drop records longer than max_length;
* zero padding: next-fit in order;
* greedy: consecutive groups of `group` records; in each, every record in order goes into the row whose
  room is the argmax, or, when it does not fit there, a new row is opened and the record retried; the
  group's non-empty rows are emitted in index order.

Writes ../resources/data/packing_reference.json: a list of cases {name, max_length, group, lengths,
zero_padding: [[record index, ...] per row], greedy: [...]}, indices into `lengths`.

Run from the repository root:  PATH=$(getconf PATH) python3 domain/src/test/python/paddle_packing_reference.py
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "data", "packing_reference.json")


def kept(lengths, max_length):
    return [i for i, n in enumerate(lengths) if n <= max_length]


def zero_padding(lengths, max_length):
    rows, row, used = [], [], 0
    for i in kept(lengths, max_length):
        if used + lengths[i] <= max_length:
            row.append(i)
            used += lengths[i]
        else:
            rows.append(row)
            row, used = [i], lengths[i]
    if row:
        rows.append(row)
    return rows


def greedy_group(indices, lengths, max_length):
    room = np.zeros([len(indices)]) - 1
    room[0] = max_length
    packs = [[] for _ in indices]
    k, last_open = 0, 0
    while k < len(indices):
        n = lengths[indices[k]]
        best = int(room.argmax())
        if n <= room[best]:
            packs[best].append(indices[k])
            room[best] -= n
            k += 1
        else:
            last_open += 1
            room[last_open] = max_length
    return [p for p in packs if p]


def greedy(lengths, max_length, group):
    ids = kept(lengths, max_length)
    rows = []
    for start in range(0, len(ids), group):
        rows.extend(greedy_group(ids[start:start + group], lengths, max_length))
    return rows


def case(name, lengths, max_length, group):
    lengths = [int(n) for n in lengths]
    return {"name": name, "max_length": max_length, "group": group, "lengths": lengths,
            "zero_padding": zero_padding(lengths, max_length), "greedy": greedy(lengths, max_length, group)}


def main():
    rng = np.random.default_rng(20261204)
    cases = [
        # Small enough to check by hand (PackerTest spells this one out).
        case("hand", [5, 3, 6, 2, 4, 7, 1], 10, 500),
        # Ties in room: rows with equal room, the first opened wins.
        case("ties", [4, 4, 4, 4, 2, 2, 2, 2, 1, 1], 6, 500),
        # Records longer than max_length are dropped before grouping.
        case("overlong", [3, 12, 5, 10, 11, 2, 9, 1, 13, 4], 10, 3),
        # Many groups of a small size, and a last partial group.
        case("groups-of-7", rng.integers(1, 33, size=50), 32, 7),
        # PaddleNLP's group of 500 across three groups, long-tailed lengths with overlong ones.
        case("lognormal-1200", np.minimum(np.ceil(rng.lognormal(4.0, 1.0, size=1200)), 5000), 512, 500),
        case("uniform-1000", rng.integers(1, 129, size=1000), 128, 500),
    ]
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(cases, f)
        f.write("\n")


if __name__ == "__main__":
    main()
