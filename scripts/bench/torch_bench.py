#!/usr/bin/env python3
"""PyTorch side of the encoder benchmark (BENCHMARKS.md, "Encoder"), and the
ONNX export that the ONNX Runtime side (ort_bench.js) runs. Not used by the
product or CI.

The model is the plain-torch reference (scripts/reference/make_golden.py:
distilbert_logits + splade, max pooling), computed as users run a Hugging
Face model: padded batch, attention mask, full MLM logits, then the SPLADE
head. Workloads (the same as `splade bench-encode`):
  batch16x128  16 documents of 128 random tokens, median of 5 after a warm-up
  query16      one 16-token query, median of 30 after a warm-up
  mixed        the token lengths of --lengths (one per line, written by
               bench-encode), random ids, batches of 16 in file order padded
               to the batch's longest text

--export DIR writes DIR/model.onnx (inputs input_ids and attention_mask,
int64 [batch, sequence], output splade [batch, vocab], both axes dynamic)
and DIR/check.json (a padded batch and torch's output on it) for
ort_bench.js --check. --parity FILE compares the Go encoder's vectors
(bench-encode --parity-out) with this reference in float32 and float64.

Usage:
  OMP_NUM_THREADS=2 python3 scripts/bench/torch_bench.py --model DIR \
      --lengths lengths.txt --export OUTDIR --parity parity.json
"""
import argparse
import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import make_golden as ref  # noqa: E402
from torchinfo import blas_library  # noqa: E402

CLS, SEP = 101, 102


def read_safetensors(path):
    """Reads an F32 safetensors file into a dict of tensors."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] != "F32":
            raise SystemExit("%s: tensor %s has dtype %s, want F32" % (path, name, meta["dtype"]))
        lo, hi = meta["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data, dtype=np.float32, count=(hi - lo) // 4, offset=lo).copy()).view(meta["shape"])
    return out


def load(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "distilbert":
        raise SystemExit("%s: model_type %r, want distilbert" % (model_dir, cfg.get("model_type")))
    return cfg, read_safetensors(os.path.join(model_dir, "model.safetensors"))


def encode(p, cfg, ids, mask):
    """SPLADE vectors [batch, vocab] of a padded batch."""
    return ref.splade(ref.distilbert_logits(p, cfg, ids, mask), mask, "max")


def random_batch(lengths, vocab, g):
    """Random ids of the given lengths ([CLS] ... [SEP]), padded, with mask."""
    T = max(lengths)
    ids = torch.zeros(len(lengths), T, dtype=torch.int64)
    mask = torch.zeros(len(lengths), T, dtype=torch.int64)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.randint(1000, vocab, (n,), generator=g)
        ids[i, 0], ids[i, n - 1] = CLS, SEP
        mask[i, :n] = 1
    return ids, mask


def median_time(fn, runs):
    fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def pad(seqs):
    T = max(len(s) for s in seqs)
    ids = torch.tensor([s + [0] * (T - len(s)) for s in seqs], dtype=torch.int64)
    mask = torch.tensor([[1] * len(s) + [0] * (T - len(s)) for s in seqs], dtype=torch.int64)
    return ids, mask


def parity(p, cfg, path):
    """Max abs differences between Go's vectors and the reference's."""
    with open(path) as f:
        go = json.load(f)
    seqs = go["input_ids"]
    V = cfg["vocab_size"]
    go_dense = torch.zeros(len(seqs), V, dtype=torch.float64)
    for i, w in enumerate(go["weights"]):
        go_dense[i, w["ids"]] = torch.tensor(w["values"], dtype=torch.float64)
    ids, mask = pad(seqs)
    with torch.inference_mode():
        f32 = encode(p, cfg, ids, mask).to(torch.float64)
        p64 = {k: v.to(torch.float64) for k, v in p.items()}
        # float64 one text at a time: the full logits of a padded batch
        # would take gigabytes.
        f64 = torch.cat([encode(p64, cfg, torch.tensor([s]), torch.ones(1, len(s), dtype=torch.int64)) for s in seqs])
    nnz = [int((f64[i] > 0).sum()) for i in range(len(seqs))]
    return {
        "parity_texts": len(seqs),
        "parity_tokens": [len(s) for s in seqs],
        "parity_nonzero_terms": nnz,
        "parity_max_abs_go_vs_f64": float((go_dense - f64).abs().max()),
        "parity_max_abs_torch32_vs_f64": float((f32 - f64).abs().max()),
        "parity_max_abs_go_vs_torch32": float((go_dense - f32).abs().max()),
        "parity_max_weight": float(f64.max()),
    }


class Splade(torch.nn.Module):
    """The reference encoder as a module, for torch.onnx.export."""

    def __init__(self, p, cfg):
        super().__init__()
        self.p, self.cfg = p, cfg

    def forward(self, input_ids, attention_mask):
        return encode(self.p, self.cfg, input_ids, attention_mask)


def export(p, cfg, out_dir, g):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.onnx")
    ids, mask = random_batch([20, 7, 13], cfg["vocab_size"], g)
    with torch.inference_mode():
        ref_out = encode(p, cfg, ids, mask)
    # The reference's layer_norm passes x.shape[-1:], which tracing turns
    # into a dynamic value that the exporter rejects; the same computation
    # with the (static) width of its weight exports.
    traced_ln = ref.layer_norm
    ref.layer_norm = lambda x, p, prefix, eps: torch.nn.functional.layer_norm(
        x, tuple(p[prefix + ".weight"].shape), p[prefix + ".weight"], p[prefix + ".bias"], eps)
    try:
        with torch.no_grad():
            torch.onnx.export(Splade(p, cfg), (ids, mask), path, opset_version=17,
                              input_names=["input_ids", "attention_mask"], output_names=["splade"],
                              dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                            "attention_mask": {0: "batch", 1: "sequence"},
                                            "splade": {0: "batch"}})
    finally:
        ref.layer_norm = traced_ln
    with open(os.path.join(out_dir, "check.json"), "w") as f:
        json.dump({"input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                   "output": ref_out.flatten().tolist()}, f)
    return path


def lockstep(p, cfg, lengths_file, g, info):
    """Serves lockstep.py: a JSON line when ready, then for each line of
    stdin (batch, query or mixed) one run of that workload and a line
    {"op": ..., "s": seconds}."""
    V = cfg["vocab_size"]
    batches = {"batch": [random_batch([128] * 16, V, g)], "query": [random_batch([16], V, g)], "mixed": []}
    if lengths_file:
        with open(lengths_file) as f:
            lengths = [int(x) for x in f.read().split()]
        batches["mixed"] = [random_batch(lengths[i:i + 16], V, g) for i in range(0, len(lengths), 16)]
    print(json.dumps(dict(info, ready=True)), flush=True)
    with torch.inference_mode():
        for line in sys.stdin:
            op = line.strip()
            if not op:
                continue
            if not batches.get(op):
                raise SystemExit("unknown or empty workload %r" % op)
            t = time.perf_counter()
            for ids, mask in batches[op]:
                encode(p, cfg, ids, mask)
            print(json.dumps({"op": op, "s": time.perf_counter() - t}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--lengths", help="mixed workload: token count per text, one per line")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export", metavar="DIR", help="write DIR/model.onnx and DIR/check.json")
    ap.add_argument("--parity", metavar="FILE", help="Go vectors from splade bench-encode --parity-out")
    ap.add_argument("--skip-bench", action="store_true", help="only export and parity")
    ap.add_argument("--lockstep", action="store_true",
                    help="serve lockstep.py: one run per workload named on stdin (batch, query, mixed)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg, p = load(args.model)
    V = cfg["vocab_size"]
    g = torch.Generator().manual_seed(7)
    res = {"engine": "pytorch " + torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library()}
    if args.lockstep:
        return lockstep(p, cfg, args.lengths, g, res)
    if not args.skip_bench:
        with torch.inference_mode():
            ids, mask = random_batch([128] * 16, V, g)
            res["batch16x128_docs_per_s"] = 16 / median_time(lambda: encode(p, cfg, ids, mask), 5)
            qids, qmask = random_batch([16], V, g)
            res["query16_ms_median"] = 1000 * median_time(lambda: encode(p, cfg, qids, qmask), 30)
            if args.lengths:
                with open(args.lengths) as f:
                    lengths = [int(x) for x in f.read().split()]
                t = time.perf_counter()
                for i in range(0, len(lengths), 16):
                    ids, mask = random_batch(lengths[i:i + 16], V, g)
                    encode(p, cfg, ids, mask)
                res["mixed_docs_per_s"] = len(lengths) / (time.perf_counter() - t)
                res["mixed_docs"] = len(lengths)
                res["mixed_mean_tokens"] = sum(lengths) / len(lengths)
    if args.export:
        res["onnx"] = export(p, cfg, args.export, g)
    if args.parity:
        res.update(parity(p, cfg, args.parity))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
