#!/usr/bin/env python3
"""Writes a random DistilBERT-size SPLADE checkpoint (6 layers, 768 hidden,
12 heads, 3072 FFN, bert-base-uncased's 30,522-entry vocabulary) in the
Hugging Face layout, for the encoder benchmark (BENCHMARKS.md, "Encoder").

Parameter names and the file layout come from the reference implementation
(scripts/reference/make_golden.py: random_params, save_checkpoint). Its
scales were chosen for its tiny golden models; at width 768 they would make
every logit positive, so linear weights are rescaled to 1/sqrt(fan_in) and
the word embeddings so that logits spread about 0.55 around the -1.2 bias,
as model.NewRandom does. Then SPLADE vectors are sparse, as a trained
model's are, and the Go encoder's sparsification costs what it would in
use. Not used by the product or CI.

Usage: OMP_NUM_THREADS=2 python3 scripts/bench/make_model.py --out DIR
"""
import argparse
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import make_golden as ref  # noqa: E402

CONFIG = {
    "architectures": ["DistilBertForMaskedLM"], "model_type": "distilbert", "vocab_size": 30522,
    "dim": 768, "n_layers": 6, "n_heads": 12, "hidden_dim": 3072, "activation": "gelu",
    "max_position_embeddings": 512, "sinusoidal_pos_embds": False, "pad_token_id": 0,
}


def rescale(p, cfg):
    """Rescales the reference script's random parameters to width-appropriate
    scales (see the module doc)."""
    H = cfg["dim"]
    for name, t in p.items():
        if name.endswith("word_embeddings.weight"):
            t.mul_((0.55 / math.sqrt(H)) / 0.08)
        elif t.dim() == 2 and "embeddings" not in name:
            std = 0.3 if ("q_lin" in name or "k_lin" in name) else 0.15
            want = 2 / math.sqrt(H) if std == 0.3 else 1 / math.sqrt(t.shape[1])
            t.mul_(want / std)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", default=os.path.join(HERE, "..", "..", "..", "shared", "data", "bert-base-uncased", "vocab.txt"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(2)
    vocab = ref.load_vocab(args.vocab)
    if len(vocab) != CONFIG["vocab_size"]:
        raise SystemExit("%s: %d entries, want %d" % (args.vocab, len(vocab), CONFIG["vocab_size"]))
    g = torch.Generator().manual_seed(args.seed)
    p = rescale(ref.random_params("distilbert", CONFIG, g), CONFIG)
    ref.save_checkpoint(args.out, "distilbert", CONFIG, p, vocab, CONFIG["max_position_embeddings"])
    # save_checkpoint also writes pytorch_model.bin; the benchmark needs only
    # the safetensors file, and the copy doubles the disk footprint.
    os.remove(os.path.join(args.out, "pytorch_model.bin"))
    n = sum(t.numel() for t in p.values())
    print("wrote %s: %.1fM parameters" % (args.out, n / 1e6))


if __name__ == "__main__":
    main()
