// Command trainstep times SPLADE training steps of package train on random
// token ids: the Go side of scripts/bench/train.sh, whose PyTorch side is
// scripts/bench/train_torch.py with the same flags. Not used by the product
// or CI.
//
// One step is what train.Trainer does for one micro-batch: zero the
// gradients, forward B queries and 2B documents (each query's positive and
// hard negative) with max pooling, the ranking loss (softmax cross-entropy
// of each query's positive against all 2B documents, the in-batch
// negatives), the FLOPS regularizer on queries and documents, backward
// through both, and AdamW with gradient clipping.
//
//	go run ./scripts/bench/trainstep -layers 4 -hidden 256 -heads 4 -batch 16 -qlen 32 -dlen 256
//
// It prints one JSON object: the configuration, the median and every
// step's seconds, steps/s, and every step's CPU seconds (all threads).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sort"
	"time"

	"github.com/splade-go/splade/internal/cputime"
	"github.com/splade-go/splade/kernels"
	"github.com/splade-go/splade/model"
	"github.com/splade-go/splade/train"
)

func main() {
	layers := flag.Int("layers", 4, "transformer layers")
	hidden := flag.Int("hidden", 256, "hidden size (FFN 4x)")
	heads := flag.Int("heads", 4, "attention heads")
	vocab := flag.Int("vocab", 30522, "vocabulary size")
	batch := flag.Int("batch", 16, "queries per step (documents: twice as many)")
	qlen := flag.Int("qlen", 32, "tokens per query")
	dlen := flag.Int("dlen", 256, "tokens per document")
	threads := flag.Int("threads", 2, "threads")
	warmup := flag.Int("warmup", 2, "untimed steps first")
	steps := flag.Int("steps", 5, "timed steps")
	lambdaQ := flag.Float64("lambda-q", 5e-4, "FLOPS weight on queries")
	lambdaD := flag.Float64("lambda-d", 3e-4, "FLOPS weight on documents")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the timed steps to this file")
	flag.Parse()
	if err := run(*layers, *hidden, *heads, *vocab, *batch, *qlen, *dlen, *threads, *warmup, *steps, *lambdaQ, *lambdaD, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "trainstep:", err)
		os.Exit(1)
	}
}

func run(layers, hidden, heads, vocab, B, qlen, dlen, threads, warmup, steps int, lambdaQ, lambdaD float64, profile string) error {
	cfg := train.NewConfig(model.DistilBERT, layers, hidden, heads, vocab)
	m, err := train.New(cfg, 1)
	if err != nil {
		return err
	}
	m.SetThreads(threads)
	opt := train.NewAdamW(m.Params(), train.Schedule{Peak: 2e-5, Warmup: 100})
	opt.SetThreads(threads)
	r := rand.New(rand.NewPCG(1, 2))
	ids := func(n, length int) [][]int32 {
		out := make([][]int32, n)
		for i := range out {
			out[i] = make([]int32, length)
			for j := range out[i] {
				out[i][j] = int32(1 + r.IntN(vocab-1))
			}
		}
		return out
	}
	queries, docs := ids(B, qlen), ids(2*B, dlen)
	pos := make([]int, B)
	for i := range pos {
		pos[i] = i
	}
	var qa, da train.Activations
	V := vocab
	step := func() error {
		m.ZeroGrad()
		if err := m.ForwardInto(&qa, queries, kernels.PoolMax); err != nil {
			return err
		}
		if err := m.ForwardInto(&da, docs, kernels.PoolMax); err != nil {
			return err
		}
		qv, dv := qa.Vectors(), da.Vectors()
		dq, dd := make([]float32, len(qv)), make([]float32, len(dv))
		S := train.Scores(qv, dv, V)
		dS := make([]float64, len(S))
		if _, err := train.RankingCE(S, B, 2*B, pos, nil, 1, dS); err != nil {
			return err
		}
		train.ScoresBackward(qv, dv, V, dS, dq, dd)
		train.FLOPS(qv, V, lambdaQ, dq)
		train.FLOPS(dv, V, lambdaD, dd)
		if err := m.Backward(&qa, dq); err != nil {
			return err
		}
		if err := m.Backward(&da, dd); err != nil {
			return err
		}
		opt.Step()
		return nil
	}
	for i := 0; i < warmup; i++ {
		if err := step(); err != nil {
			return err
		}
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	times, cpu := make([]float64, steps), make([]float64, steps)
	for i := range times {
		t0, c0 := time.Now(), cputime.Seconds()
		if err := step(); err != nil {
			return err
		}
		times[i], cpu[i] = time.Since(t0).Seconds(), cputime.Seconds()-c0
	}
	sorted := append([]float64(nil), times...)
	sort.Float64s(sorted)
	med := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		med = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"engine": "go " + kernels.Path(), "layers": layers, "hidden": hidden, "heads": heads, "vocab": vocab,
		"batch": B, "qlen": qlen, "dlen": dlen, "threads": threads, "params": m.NumParams(),
		"step_s": times, "median_s": med, "steps_per_s": 1 / med, "cpu_s": cpu,
	})
}
