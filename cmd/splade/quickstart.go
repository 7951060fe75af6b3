package main

import (
	"fmt"
	"os"
	"time"

	"github.com/splade-go/splade/internal/defaultmodel"
	"github.com/splade-go/splade/quickstart"
)

func init() {
	register(command{name: "quickstart", summary: "run every stage end to end on the bundled sample collection", run: runQuickstart})
}

func runQuickstart(args []string) error {
	fs := newFlags("quickstart", "[--model default|DIR|none] [--work DIR] [--threads N] [--chunk N --stride M]",
		`Runs the toolkit end to end on the bundled BEIR SciFact test collection (5,183 abstracts,
300 queries; CC BY-NC 2.0), with no download: the Lucene-exact BM25 baseline, the same BM25 as
impact vectors through the compressed index with each query processor (exhaustive, exact
block-max, approximate), and with --model the SPLADE pipeline (encode, index, search) next to
BM25. Prints nDCG@10, Recall@100, query latency, index size and encoding speed.

The SPLADE rows use the model embedded in the binary (--model default: a small model that
this repository's trainer produced; see TRAINING.md), or any checkpoint in Hugging Face
layout given with --model DIR; --model none skips them.

With --chunk N, documents are also split into passages of N tokens every --stride M tokens
(words for BM25, wordpieces for SPLADE, as splade encode --chunk does), indexed as passages
and ranked by their best passage (MaxP), in extra rows next to the whole-document ones.

Examples:
  splade quickstart
  splade quickstart --model ./my-splade --threads 2
  splade quickstart --chunk 64 --stride 32`)
	modelDir := fs.String("model", defaultmodel.Name, "SPLADE checkpoint directory (config.json, model.safetensors or pytorch_model.bin, vocab.txt), \"default\" (the embedded model) or \"none\"")
	work := fs.String("work", "", "directory for the indexes (default: a temporary directory, removed afterwards)")
	threads := fs.Int("threads", 0, "encoder threads (0: all cores)")
	chunk := fs.Int("chunk", 0, "also rank documents by their best passage of this many tokens (0: off)")
	stride := fs.Int("stride", 0, "with --chunk: tokens from one passage's start to the next (0: --chunk)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *chunk < 0 || *stride < 0 || *stride > *chunk {
		return usagef("--chunk and --stride must not be negative, and --stride needs --chunk and must be at most --chunk")
	}
	start := time.Now()
	if *modelDir == "none" {
		*modelDir = ""
	}
	dir, err := defaultmodel.Resolve(*modelDir)
	if err != nil {
		return err
	}
	*modelDir = dir
	rep, err := quickstart.Run(quickstart.Options{
		ModelDir: *modelDir, WorkDir: *work, Threads: *threads, Chunk: *chunk, Stride: *stride,
		Progress: func(stage string, total int) (func(int), func()) {
			bar := newProgress(int64(total), stage)
			return func(n int) { bar.Add(n) }, func() { bar.Finish() }
		},
	})
	if err != nil {
		return err
	}
	rep.Print(os.Stdout)
	if *modelDir == "" {
		fmt.Println("  (--model none: no SPLADE rows)")
	}
	fmt.Printf("  total time %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}
