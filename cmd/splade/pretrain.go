package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/splade-go/splade/internal/defaultmodel"
	"github.com/splade-go/splade/model"
	"github.com/splade-go/splade/tokenize"
	"github.com/splade-go/splade/train"
)

const pretrainHelp = `Masked-language-model pre-training (BERT's objective) on the raw text of a
corpus: 15% of the tokens are selected, 80% of them replaced by [MASK], 10% by a
random token, and the model predicts the originals. Without pretrained weights,
this domain-adaptive stage is what gives the SPLADE head its meaning (a term's
logit predicts that term) before "splade train" fits it to ranking.

The model starts from --init (any checkpoint "splade encode" reads) or from
scratch with --vocab and the shape flags. It is written to --output in Hugging
Face layout (config.json, model.safetensors, vocab.txt), with the log
pretrain_log.jsonl (step, loss, masked tokens, lr, grad norm, seconds).

Examples:
  splade pretrain --corpus ../shared/data/beir/scifact/corpus.jsonl.gz \
      --vocab ../shared/data/bert-base-uncased/vocab.txt \
      --layers 2 --hidden 128 --heads 2 --steps 2000 --batch 32 \
      --max-length 128 --lr 5e-4 --output runs/scifact-mlm
  splade pretrain --corpus docs.tsv --init runs/scifact-mlm --steps 500 --output runs/mlm2`

func init() {
	register(command{name: "pretrain", summary: "masked-LM pre-training on a corpus (domain adaptation)", run: runPretrain})
}

func runPretrain(args []string) error {
	fs := newFlags("pretrain", "--corpus FILE (--vocab FILE | --init DIR) --output DIR [flags]", pretrainHelp)
	corpusPath := fs.String("corpus", "", "raw text: BEIR JSONL or id<TAB>text TSV (.gz ok)")
	vocabPath := fs.String("vocab", "", "vocab.txt (or tokenizer directory) of a model trained from scratch")
	initDir := fs.String("init", "", "checkpoint to continue from instead of --vocab")
	arch := fs.String("arch", "bert", "architecture from scratch: bert or distilbert")
	layers := fs.Int("layers", 2, "transformer layers (from scratch)")
	hidden := fs.Int("hidden", 128, "hidden size (from scratch)")
	heads := fs.Int("heads", 2, "attention heads (from scratch)")
	steps := fs.Int("steps", 1000, "optimizer steps")
	batch := fs.Int("batch", 32, "texts per step")
	maxLen := fs.Int("max-length", 128, "tokens per text including [CLS] and [SEP]")
	lr := fs.Float64("lr", 5e-4, "peak learning rate (linear warmup and decay)")
	warmup := fs.Int("warmup", 100, "warmup steps")
	maskProb := fs.Float64("mask-prob", 0.15, "fraction of tokens selected for prediction")
	copyProb := fs.Float64("copy-prob", 0, "fraction of the other tokens trained to predict themselves (the copy task: a lexical SPLADE head)")
	seed := fs.Uint64("seed", 1, "seed of the weights, the batches and the masks")
	threads := fs.Int("threads", 0, "threads (0: all cores)")
	stopAfter := fs.Int("stop-after", 0, "stop after N steps of the --steps schedule (learning rate as for --steps; 0: run all --steps)")
	saveEvery := fs.Int("save-every", 0, "also write the model to --output every N steps (0: only at the end)")
	out := fs.String("output", "", "output directory")
	alias(fs, "output", "out")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *corpusPath == "" || *out == "":
		return usagef("--corpus and --output are required (see splade pretrain -h)")
	case (*vocabPath == "") == (*initDir == ""):
		return usagef("give exactly one of --vocab (from scratch) and --init (continue a checkpoint)")
	case *steps <= 0 || *batch <= 0 || *maxLen < 3 || *lr <= 0 || *maskProb <= 0 || *maskProb >= 1 || *copyProb < 0 || *copyProb > 1 || *stopAfter < 0:
		return usagef("--steps, --batch, --lr must be positive, --max-length at least 3, --mask-prob in (0, 1), --copy-prob in [0, 1], --stop-after not negative")
	}
	var (
		m     *train.Model
		tok   *tokenize.Tokenizer
		vocab []string
		err   error
	)
	if *initDir != "" {
		if *initDir, err = defaultmodel.Resolve(*initDir); err != nil {
			return err
		}
		if m, err = train.Load(*initDir); err != nil {
			return err
		}
		if tok, err = tokenize.Load(*initDir); err != nil {
			return err
		}
		if vocab, err = tokenize.ReadVocab(filepath.Join(*initDir, tokenize.VocabFile)); err != nil {
			return err
		}
	} else {
		a := model.BERT
		switch *arch {
		case "bert":
		case "distilbert":
			a = model.DistilBERT
		default:
			return usagef("--arch %q: want bert or distilbert", *arch)
		}
		cfg, v, err := train.ConfigFromVocab(a, *layers, *hidden, *heads, *vocabPath)
		if err != nil {
			return err
		}
		vocab = v
		if m, err = train.New(cfg, *seed); err != nil {
			return err
		}
		if tok, err = tokenize.Load(*vocabPath); err != nil {
			return err
		}
	}
	if tok.MaskID() < 0 {
		return fmt.Errorf("the vocabulary has no %s token", tokenize.MaskToken)
	}
	m.SetThreads(*threads)
	texts, ids, err := train.ReadTexts(*corpusPath)
	if err != nil {
		return err
	}
	limit := min(*maxLen, m.Config.MaxPositions)
	var docs [][]int32
	for _, id := range ids {
		if t := tok.Encode(texts[id], limit); len(t) > 2 {
			docs = append(docs, t)
		}
	}
	if len(docs) == 0 {
		return fmt.Errorf("%s: no text with a token", *corpusPath)
	}
	slog.Info("pretraining", "docs", len(docs), "params", m.NumParams(), "layers", m.Config.Layers, "hidden", m.Config.Hidden, "steps", *steps)
	special := map[int32]bool{}
	for _, s := range []string{tokenize.PadToken, tokenize.ClsToken, tokenize.SepToken} {
		if id, ok := tok.ID(s); ok {
			special[id] = true
		}
	}
	masker := &train.Masker{Prob: *maskProb, CopyProb: *copyProb, MaskID: tok.MaskID(), Vocab: m.Config.Vocab, Special: special}
	opt := train.NewAdamW(m.Params(), train.Schedule{Peak: *lr, Warmup: *warmup, Total: *steps})
	opt.SetThreads(*threads)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(*out, "pretrain_log.jsonl"))
	if err != nil {
		return err
	}
	defer logf.Close()
	enc := json.NewEncoder(logf)
	last := *steps
	if *stopAfter > 0 && *stopAfter < last {
		last = *stopAfter
	}
	bar := newProgress(int64(last), "pretrain")
	var act train.Activations
	rng := rand.New(rand.NewPCG(*seed, 0x3d1))
	perm := rng.Perm(len(docs))
	next := 0
	for step := 0; step < last; step++ {
		start := time.Now()
		var in, labels [][]int32
		masked := 0
		for len(in) < *batch || masked == 0 {
			if next == len(perm) {
				perm, next = rng.Perm(len(docs)), 0
			}
			x, l := masker.Mask(rng, docs[perm[next]])
			next++
			for _, v := range l {
				if v != train.Ignore {
					masked++
				}
			}
			in, labels = append(in, x), append(labels, l)
		}
		m.ZeroGrad()
		loss, count, err := m.MLM(&act, in, labels, true)
		if err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		gn, lrNow := opt.Step()
		if err := enc.Encode(map[string]any{"step": step + 1, "loss": loss, "masked": count, "lr": lrNow,
			"grad_norm": gn, "step_seconds": time.Since(start).Seconds()}); err != nil {
			return err
		}
		bar.Describe(fmt.Sprintf("pretrain loss %.3f", loss))
		bar.Add(1)
		if (step+1)%100 == 0 || step+1 == last {
			slog.Info("pretrain", "step", step+1, "loss", fmt.Sprintf("%.4f", loss), "lr", lrNow)
		}
		if *saveEvery > 0 && (step+1)%*saveEvery == 0 && step+1 < last {
			if err := m.Save(*out, vocab); err != nil {
				return err
			}
		}
	}
	bar.Finish()
	if err := m.Save(*out, vocab); err != nil {
		return err
	}
	slog.Info("saved", "dir", *out)
	return nil
}
