#!/usr/bin/env python3
"""PyTorch side of the training-step benchmark (Go side:
`go test ./train -run XXX -bench TrainStep`). Not used by the product or CI.

The same model, batch and step as BenchmarkTrainStep in train/bench_test.go,
written as users train SPLADE in PyTorch (naver/splade): a DistilBERT
masked-LM of 2 layers x 256 hidden, 4 heads, FFN 1024, vocabulary 30522,
decoder tied to the word embeddings, HF initialization (normal 0.02);
a padded batch with an attention mask, full MLM logits, the SPLADE head
log(1 + relu(logits)) masked and max- (or sum-) pooled, then autograd and
torch.optim.AdamW (weight decay 0.01 except biases and LayerNorm), global
norm clipping at 1, a linear warmup schedule.

One step = zero_grad, forward of 8 queries x 16 tokens and of 16 documents
x 128 tokens, loss = sum(vectors * fixed random gradient) (the place of the
ranking loss: its gradient on the vectors is what the Go benchmark feeds
Backward), backward, clip, AdamW. Reports the median of --steps steps
after --warmup steps, as steps/s.

Usage (Debian python3-torch 1.13, two threads as the Go benchmark):
  OMP_NUM_THREADS=2 python3 scripts/bench/train_torch.py --pooling max
"""
import argparse
import math
import statistics
import time

import torch

VOCAB, HIDDEN, LAYERS, HEADS, FFN, MAXPOS = 30522, 256, 2, 4, 1024, 512


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


class Model(torch.nn.Module):
    """DistilBertForMaskedLM, plain torch."""

    def __init__(self):
        super().__init__()
        P = lambda *s: torch.nn.Parameter(torch.randn(*s) * 0.02)
        Z = lambda *s: torch.nn.Parameter(torch.zeros(*s))
        O = lambda *s: torch.nn.Parameter(torch.ones(*s))
        self.word = P(VOCAB, HIDDEN)
        with torch.no_grad():
            self.word[0].zero_()
        self.pos = P(MAXPOS, HIDDEN)
        self.emb_ln = torch.nn.ParameterList([O(HIDDEN), Z(HIDDEN)])
        self.layers = torch.nn.ModuleList()
        for _ in range(LAYERS):
            l = torch.nn.Module()
            l.qkv_w, l.qkv_b = P(3 * HIDDEN, HIDDEN), Z(3 * HIDDEN)
            l.out_w, l.out_b = P(HIDDEN, HIDDEN), Z(HIDDEN)
            l.ln1_g, l.ln1_b = O(HIDDEN), Z(HIDDEN)
            l.ffn1_w, l.ffn1_b = P(FFN, HIDDEN), Z(FFN)
            l.ffn2_w, l.ffn2_b = P(HIDDEN, FFN), Z(HIDDEN)
            l.ln2_g, l.ln2_b = O(HIDDEN), Z(HIDDEN)
            self.layers.append(l)
        self.t_w, self.t_b = P(HIDDEN, HIDDEN), Z(HIDDEN)
        self.t_ln = torch.nn.ParameterList([O(HIDDEN), Z(HIDDEN)])
        self.dec_b = Z(VOCAB)

    def forward(self, ids, mask):
        B, T = ids.shape
        ln = torch.nn.functional.layer_norm
        lin = torch.nn.functional.linear
        x = self.word[ids] + self.pos[:T][None]
        x = ln(x, (HIDDEN,), self.emb_ln[0], self.emb_ln[1], 1e-12)
        dh = HIDDEN // HEADS
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for l in self.layers:
            q, k, v = lin(x, l.qkv_w, l.qkv_b).split(HIDDEN, dim=-1)
            q, k, v = (t.view(B, T, HEADS, dh).transpose(1, 2) for t in (q, k, v))
            s = q @ k.transpose(-1, -2) / math.sqrt(dh) + bias
            ctx = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, HIDDEN)
            h = ln(lin(ctx, l.out_w, l.out_b) + x, (HIDDEN,), l.ln1_g, l.ln1_b, 1e-12)
            x = ln(lin(gelu(lin(h, l.ffn1_w, l.ffn1_b)), l.ffn2_w, l.ffn2_b) + h, (HIDDEN,), l.ln2_g, l.ln2_b, 1e-12)
        t = ln(gelu(lin(x, self.t_w, self.t_b)), (HIDDEN,), self.t_ln[0], self.t_ln[1], 1e-12)
        return lin(t, self.word, self.dec_b)  # tied decoder


def splade(logits, mask, pooling):
    w = torch.log1p(torch.relu(logits)) * mask.unsqueeze(-1).to(logits.dtype)
    return w.max(dim=1).values if pooling == "max" else w.sum(dim=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pooling", choices=["max", "sum"], default="max")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = Model()
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=2e-5, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 100))
    q_ids = torch.randint(0, VOCAB, (8, 16))
    d_ids = torch.randint(0, VOCAB, (16, 128))
    q_mask, d_mask = torch.ones_like(q_ids), torch.ones_like(d_ids)
    dq = torch.randn(8, VOCAB) * 1e-3
    dd = torch.randn(16, VOCAB) * 1e-3

    def step():
        opt.zero_grad(set_to_none=False)
        q = splade(model(q_ids, q_mask), q_mask, args.pooling)
        d = splade(model(d_ids, d_mask), d_mask, args.pooling)
        loss = (q * dq).sum() + (d * dd).sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print("torch %s threads=%d pooling=%s: %.3f s/step, %.4f steps/s (median of %d)"
          % (torch.__version__, args.threads, args.pooling, med, 1 / med, args.steps))


if __name__ == "__main__":
    main()
