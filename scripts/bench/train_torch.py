#!/usr/bin/env python3
"""PyTorch side of the training-speed benchmark (scripts/bench/train.sh; the
Go side is scripts/bench/trainstep with the same flags). Not used by the
product or CI.

The same model, batch and step as trainstep, written as users train SPLADE
in PyTorch (naver/splade): a DistilBERT masked-LM (--layers x --hidden,
--heads, FFN 4 x hidden, vocabulary --vocab, decoder tied to the word
embeddings, HF initialization normal(0, 0.02)); padded batches with an
attention mask, full MLM logits, the SPLADE head log(1 + relu(logits))
masked and max-pooled; autograd; torch.optim.AdamW (weight decay 0.01
except biases and LayerNorm), global norm clipping at 1, a linear warmup.

One step = zero_grad, forward of --batch queries of --qlen random tokens
and 2 x --batch documents of --dlen tokens (each query's positive and hard
negative), the ranking loss (cross-entropy of each query's positive
against all 2B documents: in-batch negatives), the FLOPS regularizer
sum_j mean_i(w_ij)^2 on queries and documents, backward, clip, AdamW.

Prints one JSON object (like trainstep): the configuration, torch's
version and BLAS library, the median and every step's seconds, steps/s,
and every step's CPU seconds (all threads, OpenMP and BLAS included).

Usage (Debian python3-torch 1.13 with libopenblas0-pthread):
  OMP_NUM_THREADS=2 /usr/bin/python3 scripts/bench/train_torch.py --layers 4 --hidden 256
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch

from torchinfo import blas_library

MAXPOS = 512


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


class Model(torch.nn.Module):
    """DistilBertForMaskedLM, plain torch."""

    def __init__(self, vocab, hidden, layers, heads):
        super().__init__()
        self.hidden, self.heads = hidden, heads
        ffn = 4 * hidden
        P = lambda *s: torch.nn.Parameter(torch.randn(*s) * 0.02)
        Z = lambda *s: torch.nn.Parameter(torch.zeros(*s))
        O = lambda *s: torch.nn.Parameter(torch.ones(*s))
        self.word = P(vocab, hidden)
        with torch.no_grad():
            self.word[0].zero_()
        self.pos = P(MAXPOS, hidden)
        self.emb_ln = torch.nn.ParameterList([O(hidden), Z(hidden)])
        self.layers = torch.nn.ModuleList()
        for _ in range(layers):
            l = torch.nn.Module()
            l.qkv_w, l.qkv_b = P(3 * hidden, hidden), Z(3 * hidden)
            l.out_w, l.out_b = P(hidden, hidden), Z(hidden)
            l.ln1_g, l.ln1_b = O(hidden), Z(hidden)
            l.ffn1_w, l.ffn1_b = P(ffn, hidden), Z(ffn)
            l.ffn2_w, l.ffn2_b = P(hidden, ffn), Z(hidden)
            l.ln2_g, l.ln2_b = O(hidden), Z(hidden)
            self.layers.append(l)
        self.t_w, self.t_b = P(hidden, hidden), Z(hidden)
        self.t_ln = torch.nn.ParameterList([O(hidden), Z(hidden)])
        self.dec_b = Z(vocab)

    def forward(self, ids, mask):
        B, T = ids.shape
        H = self.hidden
        ln = torch.nn.functional.layer_norm
        lin = torch.nn.functional.linear
        x = self.word[ids] + self.pos[:T][None]
        x = ln(x, (H,), self.emb_ln[0], self.emb_ln[1], 1e-12)
        dh = H // self.heads
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for l in self.layers:
            q, k, v = lin(x, l.qkv_w, l.qkv_b).split(H, dim=-1)
            q, k, v = (t.view(B, T, self.heads, dh).transpose(1, 2) for t in (q, k, v))
            s = q @ k.transpose(-1, -2) / math.sqrt(dh) + bias
            ctx = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H)
            h = ln(lin(ctx, l.out_w, l.out_b) + x, (H,), l.ln1_g, l.ln1_b, 1e-12)
            x = ln(lin(gelu(lin(h, l.ffn1_w, l.ffn1_b)), l.ffn2_w, l.ffn2_b) + h, (H,), l.ln2_g, l.ln2_b, 1e-12)
        t = ln(gelu(lin(x, self.t_w, self.t_b)), (H,), self.t_ln[0], self.t_ln[1], 1e-12)
        return lin(t, self.word, self.dec_b)  # tied decoder


def splade(logits, mask):
    w = torch.log1p(torch.relu(logits)) * mask.unsqueeze(-1).to(logits.dtype)
    return w.max(dim=1).values


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=30522)
    ap.add_argument("--batch", type=int, default=16, help="queries per step (documents: twice as many)")
    ap.add_argument("--qlen", type=int, default=32)
    ap.add_argument("--dlen", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--lambda-q", type=float, default=5e-4)
    ap.add_argument("--lambda-d", type=float, default=3e-4)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = Model(args.vocab, args.hidden, args.layers, args.heads)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=2e-5, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 100))
    B = args.batch
    q_ids = torch.randint(1, args.vocab, (B, args.qlen))
    d_ids = torch.randint(1, args.vocab, (2 * B, args.dlen))
    q_mask, d_mask = torch.ones_like(q_ids), torch.ones_like(d_ids)
    labels = torch.arange(B)  # query i's positive is document i; B+i its negative

    def step():
        opt.zero_grad(set_to_none=False)
        q = splade(model(q_ids, q_mask), q_mask)
        d = splade(model(d_ids, d_mask), d_mask)
        rank = torch.nn.functional.cross_entropy(q @ d.t(), labels)
        flops_q = (q.mean(dim=0) ** 2).sum()
        flops_d = (d.mean(dim=0) ** 2).sum()
        loss = rank + args.lambda_q * flops_q + args.lambda_d * flops_d
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()

    for _ in range(args.warmup):
        step()
    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    times, cpus = [], []
    for _ in range(args.steps):
        t0, c0 = time.perf_counter(), cpu()
        step()
        times.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
    med = statistics.median(times)
    print(json.dumps({
        "engine": "torch " + torch.__version__, "blas": blas_library(), "layers": args.layers, "hidden": args.hidden,
        "heads": args.heads, "vocab": args.vocab, "batch": B, "qlen": args.qlen, "dlen": args.dlen,
        "threads": args.threads, "params": sum(p.numel() for p in model.parameters()),
        "step_s": times, "median_s": med, "steps_per_s": 1 / med, "cpu_s": cpus}))


if __name__ == "__main__":
    main()
