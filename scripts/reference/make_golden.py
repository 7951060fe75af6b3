#!/usr/bin/env python3
"""Reference SPLADE encoder in plain PyTorch, and the golden files that the Go
package model is tested against (model/testdata).

Not used by CI or by users: it documents how the golden files were made and
lets anyone regenerate them. Requirements: python3 with torch (>= 1.13) and
numpy; no transformers package. BertForMaskedLM and DistilBertForMaskedLM are
re-implemented below with Hugging Face's parameter names and semantics
(padded batch + attention mask, erf GELU, post-LayerNorm), with random
weights, so the Go forward pass can be compared with an independent one.

Usage (from the repository root):
    OMP_NUM_THREADS=2 python3 scripts/reference/make_golden.py \
        --vocab ../shared/data/bert-base-uncased/vocab.txt --out model/testdata
"""
import argparse
import collections
import json
import math
import os
import struct
import unicodedata

import torch

THRESHOLD = 1e-3   # the Go test compares the sets of terms above this weight
MARGIN = 5e-6      # ...so no golden weight may lie this close to it (Go float32 errors are ~1e-6)

TEXTS = [
    "what is splade?",
    "Sparse lateral representations expand queries and documents over the vocabulary.",
    "Café résumé naïve: ACCENTS are stripped, UPPER case is lowered.",
    "the cat sat on the mat",
    "BM25 (Robertson & Zaragoza, 2009) scores 42.5% of queries; SPLADE-v3 does better!",
    "a",
    "Learned sparse retrieval models predict term importance with a masked language "
    "model head, apply log(1 + relu(x)) saturation and pool over the input tokens. "
    "The resulting vectors live in the vocabulary space, so an inverted index can "
    "serve them, and documents longer than the maximum length are truncated to it "
    "by the tokenizer before the encoder ever sees them, which this text is long "
    "enough to exercise twice over with room to spare for the test.",
    "snowman \u2603 and other unknown glyphs become unknown tokens",
    "Queries are short.",
    "Information retrieval evaluates rankings with nDCG@10 and MRR@10 over judged pairs.",
]


# ---------------------------------------------------------------- tokenizer
def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def select_vocab(full, n_words):
    """Special tokens, single characters, ##characters and the most frequent
    words of bert-base-uncased, in their original order."""
    keep = []
    words = 0
    for i, tok in enumerate(full):
        if tok in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"):
            keep.append(tok)
        elif tok.startswith("[unused"):
            continue
        elif len(tok) == 1 or (tok.startswith("##") and len(tok) == 3):
            keep.append(tok)
        elif i >= 1996 and words < n_words:
            keep.append(tok)
            words += 1
    return keep


def is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def basic_tokenize(text):
    """BERT's BasicTokenizer for the golden texts (no CJK in them)."""
    out = []
    text = "".join(" " if ch.isspace() else ch for ch in text
                   if not (ord(ch) == 0 or ord(ch) == 0xFFFD or unicodedata.category(ch) in ("Cc", "Cf")) or ch in "\t\n\r")
    for word in text.split():
        word = word.lower()
        word = "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")
        cur = ""
        for ch in word:
            if is_punct(ch):
                if cur:
                    out.append(cur)
                    cur = ""
                out.append(ch)
            else:
                cur += ch
        if cur:
            out.append(cur)
    return out


def wordpiece(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end, cur = len(word), None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                cur = sub
                break
            end -= 1
        if cur is None:
            return ["[UNK]"]
        pieces.append(cur)
        start = end
    return pieces


def encode(text, vocab, max_len):
    toks = [p for w in basic_tokenize(text) for p in wordpiece(w, vocab)]
    toks = toks[: max_len - 2]
    return [vocab["[CLS]"]] + [vocab[t] for t in toks] + [vocab["[SEP]"]]


# ---------------------------------------------------------------- models
def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def layer_norm(x, p, prefix, eps):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], p[prefix + ".weight"], p[prefix + ".bias"], eps)


def linear(x, p, prefix):
    return x @ p[prefix + ".weight"].T + p[prefix + ".bias"]


def attention(q, k, v, mask, heads, scale_first):
    b, t, h = q.shape
    dh = h // heads
    q = q.view(b, t, heads, dh).transpose(1, 2)
    k = k.view(b, t, heads, dh).transpose(1, 2)
    v = v.view(b, t, heads, dh).transpose(1, 2)
    if scale_first:  # DistilBERT scales q, then masks with masked_fill
        q = q / math.sqrt(dh)
        scores = q @ k.transpose(-1, -2)
        scores = scores.masked_fill((mask == 0).view(b, 1, 1, t), torch.finfo(scores.dtype).min)
    else:  # BERT adds an extended mask after scaling
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
        scores = scores + (1.0 - mask.view(b, 1, 1, t).to(scores.dtype)) * torch.finfo(scores.dtype).min
    probs = torch.softmax(scores, dim=-1)
    return (probs @ v).transpose(1, 2).reshape(b, t, h)


def bert_logits(p, cfg, ids, mask):
    eps = cfg["layer_norm_eps"]
    pos = torch.arange(ids.shape[1])
    x = (p["bert.embeddings.word_embeddings.weight"][ids]
         + p["bert.embeddings.position_embeddings.weight"][pos][None]
         + p["bert.embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)])
    x = layer_norm(x, p, "bert.embeddings.LayerNorm", eps)
    for i in range(cfg["num_hidden_layers"]):
        L = "bert.encoder.layer.%d." % i
        ctx = attention(linear(x, p, L + "attention.self.query"), linear(x, p, L + "attention.self.key"),
                        linear(x, p, L + "attention.self.value"), mask, cfg["num_attention_heads"], False)
        a = layer_norm(linear(ctx, p, L + "attention.output.dense") + x, p, L + "attention.output.LayerNorm", eps)
        f = gelu(linear(a, p, L + "intermediate.dense"))
        x = layer_norm(linear(f, p, L + "output.dense") + a, p, L + "output.LayerNorm", eps)
    t = gelu(linear(x, p, "cls.predictions.transform.dense"))
    t = layer_norm(t, p, "cls.predictions.transform.LayerNorm", eps)
    return t @ p["bert.embeddings.word_embeddings.weight"].T + p["cls.predictions.bias"]


def distilbert_logits(p, cfg, ids, mask):
    eps = 1e-12
    pos = torch.arange(ids.shape[1])
    x = p["distilbert.embeddings.word_embeddings.weight"][ids] + p["distilbert.embeddings.position_embeddings.weight"][pos][None]
    x = layer_norm(x, p, "distilbert.embeddings.LayerNorm", eps)
    for i in range(cfg["n_layers"]):
        L = "distilbert.transformer.layer.%d." % i
        ctx = attention(linear(x, p, L + "attention.q_lin"), linear(x, p, L + "attention.k_lin"),
                        linear(x, p, L + "attention.v_lin"), mask, cfg["n_heads"], True)
        a = layer_norm(linear(ctx, p, L + "attention.out_lin") + x, p, L + "sa_layer_norm", eps)
        f = linear(gelu(linear(a, p, L + "ffn.lin1")), p, L + "ffn.lin2")
        x = layer_norm(f + a, p, L + "output_layer_norm", eps)
    t = gelu(linear(x, p, "vocab_transform"))
    t = layer_norm(t, p, "vocab_layer_norm", eps)
    return t @ p["distilbert.embeddings.word_embeddings.weight"].T + p["vocab_projector.bias"]


def splade(logits, mask, pooling):
    """SPLADE head as in naver/splade: log(1 + relu(logits)) masked, pooled."""
    w = torch.log1p(torch.relu(logits)) * mask.unsqueeze(-1).to(logits.dtype)
    if pooling == "max":
        return w.max(dim=1).values
    return w.sum(dim=1)


# ---------------------------------------------------------------- weights
def random_params(arch, cfg, g):
    """HF-named random parameters. Scales are chosen so attention is far from
    uniform and SPLADE vectors are sparse but not trivial."""
    def n(*shape, std=1.0, mean=0.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * std + mean

    p = collections.OrderedDict()

    def lin(name, out, inp, std=0.15):
        p[name + ".weight"] = n(out, inp, std=std)
        p[name + ".bias"] = n(out, std=0.05)

    def ln(name, dim):
        p[name + ".weight"] = n(dim, std=0.1, mean=1.0)
        p[name + ".bias"] = n(dim, std=0.1)

    V, P = cfg["vocab_size"], cfg["max_position_embeddings"]
    if arch == "bert":
        H, I, pre = cfg["hidden_size"], cfg["intermediate_size"], "bert."
    else:
        H, I, pre = cfg["dim"], cfg["hidden_dim"], "distilbert."
    p[pre + "embeddings.word_embeddings.weight"] = n(V, H, std=0.08)
    p[pre + "embeddings.position_embeddings.weight"] = n(P, H, std=0.3)
    if arch == "bert":
        p["bert.embeddings.token_type_embeddings.weight"] = n(cfg["type_vocab_size"], H, std=0.3)
    ln(pre + "embeddings.LayerNorm", H)
    nl = cfg["num_hidden_layers"] if arch == "bert" else cfg["n_layers"]
    for i in range(nl):
        if arch == "bert":
            L = "bert.encoder.layer.%d." % i
            lin(L + "attention.self.query", H, H, 0.3)
            lin(L + "attention.self.key", H, H, 0.3)
            lin(L + "attention.self.value", H, H)
            lin(L + "attention.output.dense", H, H)
            ln(L + "attention.output.LayerNorm", H)
            lin(L + "intermediate.dense", I, H)
            lin(L + "output.dense", H, I)
            ln(L + "output.LayerNorm", H)
        else:
            L = "distilbert.transformer.layer.%d." % i
            lin(L + "attention.q_lin", H, H, 0.3)
            lin(L + "attention.k_lin", H, H, 0.3)
            lin(L + "attention.v_lin", H, H)
            lin(L + "attention.out_lin", H, H)
            ln(L + "sa_layer_norm", H)
            lin(L + "ffn.lin1", I, H)
            lin(L + "ffn.lin2", H, I)
            ln(L + "output_layer_norm", H)
    if arch == "bert":
        lin("cls.predictions.transform.dense", H, H)
        ln("cls.predictions.transform.LayerNorm", H)
        p["cls.predictions.bias"] = n(V, std=0.3, mean=-1.2)
    else:
        lin("vocab_transform", H, H)
        ln("vocab_layer_norm", H)
        p["vocab_projector.bias"] = n(V, std=0.3, mean=-1.2)
    return p


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def save_checkpoint(out, arch, cfg, p, vocab_list, max_len):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in vocab_list))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": max_len, "tokenizer_class": "BertTokenizer"}, f, indent=2)
    f32 = collections.OrderedDict((k, v.to(torch.float32)) for k, v in p.items())
    if arch == "bert":
        # safetensors as HF writes it: the tied decoder weight is dropped.
        st = collections.OrderedDict(f32)
        st["cls.predictions.decoder.bias"] = f32["cls.predictions.bias"]
        write_safetensors(os.path.join(out, "model.safetensors"), st)
        # An old-style pickle: legacy LayerNorm gamma/beta names, and the
        # decoder weight present, sharing storage with the word embeddings.
        pt = collections.OrderedDict()
        for k, v in f32.items():
            if ".LayerNorm." in k:
                k = k.replace(".weight", ".gamma").replace(".bias", ".beta")
            pt[k] = v
        pt["cls.predictions.decoder.weight"] = pt["bert.embeddings.word_embeddings.weight"]
        torch.save(pt, os.path.join(out, "pytorch_model.bin"))
    else:
        st = collections.OrderedDict(f32)
        st["vocab_projector.weight"] = f32["distilbert.embeddings.word_embeddings.weight"]
        write_safetensors(os.path.join(out, "model.safetensors"), st)
        torch.save(f32, os.path.join(out, "pytorch_model.bin"))  # tied weight omitted


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", default="../shared/data/bert-base-uncased/vocab.txt")
    ap.add_argument("--out", default="model/testdata")
    ap.add_argument("--words", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--batch", type=int, default=4)
    args = ap.parse_args()

    vocab_list = select_vocab(load_vocab(args.vocab), args.words)
    vocab = {t: i for i, t in enumerate(vocab_list)}
    V, max_len = len(vocab_list), 64
    configs = {
        "bert": {"architectures": ["BertForMaskedLM"], "model_type": "bert", "vocab_size": V,
                 "hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "intermediate_size": 96, "hidden_act": "gelu", "max_position_embeddings": max_len,
                 "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0,
                 "position_embedding_type": "absolute"},
        "distilbert": {"architectures": ["DistilBertForMaskedLM"], "model_type": "distilbert", "vocab_size": V,
                       "dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 64, "activation": "gelu",
                       "max_position_embeddings": max_len, "sinusoidal_pos_embds": False, "pad_token_id": 0},
    }
    ids = [encode(t, vocab, max_len) for t in TEXTS]
    golden = {"threshold": THRESHOLD, "max_length": max_len, "texts": TEXTS, "input_ids": ids,
              "tokens": [[vocab_list[i] for i in s] for s in ids], "models": {}}
    g = torch.Generator().manual_seed(args.seed)
    for arch, cfg in configs.items():
        p = random_params(arch, cfg, g)
        save_checkpoint(os.path.join(args.out, arch), arch, cfg, p, vocab_list, max_len)
        # The reference runs in float64 on the float32-rounded weights, so the
        # golden values are the exact answer for the stored checkpoint.
        p64 = {k: v.to(torch.float32).to(torch.float64) for k, v in p.items()}
        fwd = bert_logits if arch == "bert" else distilbert_logits
        res = {}
        for pooling in ("max", "sum"):
            vecs = []
            for b in range(0, len(ids), args.batch):
                chunk = ids[b:b + args.batch]
                T = max(len(s) for s in chunk)
                tid = torch.tensor([s + [0] * (T - len(s)) for s in chunk])
                mask = torch.tensor([[1] * len(s) + [0] * (T - len(s)) for s in chunk])
                with torch.no_grad():
                    w = splade(fwd(p64, cfg, tid, mask), mask, pooling)
                for row in w:
                    nz = torch.nonzero(row).flatten().tolist()
                    vecs.append({str(j): float(row[j]) for j in nz})
            near = [v for d in vecs for v in d.values() if abs(v - THRESHOLD) < MARGIN]
            if near:
                raise SystemExit("%s/%s: weights %s are too close to the threshold; pick another --seed" % (arch, pooling, near))
            above = [sum(v > THRESHOLD for v in d.values()) for d in vecs]
            print("%s %s: terms above %g per text: %s of %d" % (arch, pooling, THRESHOLD, above, V))
            res[pooling] = vecs
        golden["models"][arch] = res
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
