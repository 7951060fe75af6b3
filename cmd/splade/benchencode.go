package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/internal/defaultmodel"
	"github.com/splade-go/splade/kernels"
	"github.com/splade-go/splade/model"
)

func init() {
	register(command{name: "bench-encode", summary: "benchmark the SPLADE encoder (docs/s, query latency, mixed lengths)", run: runBenchEncode})
}

const benchEncodeHelp = `Measures the encoder of package model on three workloads, the same ones
scripts/bench/torch_bench.py (PyTorch) and scripts/bench/ort_bench.js (ONNX
Runtime) run, so that scripts/bench/encoder.sh can put them side by side:

  batch16x128  one batch of 16 documents of 128 tokens (random ids):
               median of 5 runs after a warm-up, in documents per second
  query16      one query of 16 tokens: median of 30 runs, in milliseconds
  mixed        real texts (default: the first 512 SciFact abstracts, title
               and text, truncated to --max-length tokens) tokenized and
               encoded as "splade encode" does, without padding, in
               documents per second, tokenization included

--lengths-out writes the token count of each mixed text, one per line, for
the other engines, which run random ids of the same lengths in batches of 16
padded to the batch's longest text. --parity-out writes the token ids and
SPLADE weights (max pooling, every positive weight) of the first
--parity-texts texts as JSON, which torch_bench.py --parity compares with
the PyTorch reference.

Examples:
  splade bench-encode --model /tmp/distilsplade-random
  splade bench-encode --model DIR --threads 2 --json --lengths-out lengths.txt --parity-out parity.json
  splade bench-encode --model DIR --texts collection.tsv --docs 1000`

// benchEncodeResult is the JSON line of bench-encode; its keys match those
// of torch_bench.py and ort_bench.js.
type benchEncodeResult struct {
	Engine          string  `json:"engine"`
	Threads         int     `json:"threads"`
	Batch16x128     float64 `json:"batch16x128_docs_per_s"`
	Query16MS       float64 `json:"query16_ms_median"`
	MixedDocsPerS   float64 `json:"mixed_docs_per_s,omitempty"`
	MixedDocs       int     `json:"mixed_docs,omitempty"`
	MixedMeanTokens float64 `json:"mixed_mean_tokens,omitempty"`
	MixedTokenizeMS float64 `json:"mixed_tokenize_ms,omitempty"`
}

func runBenchEncode(args []string) error {
	fs := newFlags("bench-encode", "--model DIR [flags]", benchEncodeHelp)
	dir := fs.String("model", "", "model directory (Hugging Face layout)")
	threads := fs.Int("threads", 2, "threads (0: all cores)")
	texts := fs.String("texts", "../shared/data/beir/scifact/corpus.jsonl.gz", "mixed workload texts: BEIR JSONL or id<TAB>text TSV (.gz ok); empty: skip it")
	docs := fs.Int("docs", 512, "mixed workload: use the first N texts")
	maxLen := fs.Int("max-length", model.DefaultDocLength, "mixed workload: tokens per text incl. [CLS]/[SEP]")
	lengthsOut := fs.String("lengths-out", "", "write the mixed texts' token counts here, one per line")
	parityOut := fs.String("parity-out", "", "write ids and SPLADE weights of the first texts here (JSON)")
	parityN := fs.Int("parity-texts", 8, "texts in --parity-out")
	asJSON := fs.Bool("json", false, "print one JSON line instead of a table")
	lockstep := fs.Bool("lockstep", false, "serve scripts/bench/lockstep.py: run one workload per line of stdin (batch, query, mixed), print its time")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--model is required (see splade bench-encode -h)")
	}
	if *threads < 0 || *docs < 1 || *maxLen < 3 || *parityN < 1 {
		return usagef("--threads must not be negative, --docs and --parity-texts must be >= 1, --max-length >= 3")
	}
	if (*lengthsOut != "" || *parityOut != "") && *texts == "" {
		return usagef("--lengths-out and --parity-out need --texts")
	}
	md, err := defaultmodel.Resolve(*dir)
	if err != nil {
		return err
	}
	m, tok, err := model.LoadWithTokenizer(md)
	if err != nil {
		return err
	}
	enc, err := model.NewEncoder(m, tok, model.Options{Pooling: kernels.PoolMax, MaxLength: *maxLen, Threads: *threads})
	if err != nil {
		return err
	}
	slog.Info("model loaded", "dir", *dir, "arch", m.Config.Arch, "layers", m.Config.Layers, "hidden", m.Config.Hidden,
		"vocab", m.Config.Vocab, "kernels", kernels.Path(), "threads", kernels.NewPool(*threads).Threads())
	var contents []string
	if *texts != "" {
		if contents, err = readTexts(*texts, *docs); err != nil {
			return err
		}
	}
	w := benchWorkloads{docTokens: 128, queryTokens: 16, texts: contents}
	if *lockstep {
		return serveLockstep(newBenchOps(enc, w), os.Stdin, os.Stdout)
	}
	res, ids, ws, err := benchEncode(enc, w)
	if err != nil {
		return err
	}
	res.Threads = kernels.NewPool(*threads).Threads()
	if *lengthsOut != "" {
		if err := writeLengths(*lengthsOut, ids); err != nil {
			return err
		}
	}
	if *parityOut != "" {
		n := min(*parityN, len(ids))
		if err := writeParity(*parityOut, ids[:n], ws[:n]); err != nil {
			return err
		}
	}

	if *asJSON {
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		fmt.Println(string(b))
		return nil
	}
	fmt.Printf("engine              %s, %d threads\n", res.Engine, res.Threads)
	fmt.Printf("batch 16x128        %.2f docs/s\n", res.Batch16x128)
	fmt.Printf("query 16 tokens     %.1f ms (median of 30)\n", res.Query16MS)
	if res.MixedDocs > 0 {
		fmt.Printf("mixed lengths       %.2f docs/s (%d texts, mean %.1f tokens, tokenizing %.0f ms)\n",
			res.MixedDocsPerS, res.MixedDocs, res.MixedMeanTokens, res.MixedTokenizeMS)
	}
	return nil
}

// benchWorkloads are the inputs of benchEncode: a batch of 16 random
// documents of docTokens tokens, one random query of queryTokens tokens,
// and texts for the mixed workload (none: skipped).
type benchWorkloads struct {
	docTokens, queryTokens int
	texts                  []string
}

// benchOps are the timed operations of bench-encode on fixed inputs.
type benchOps struct {
	enc          *model.Encoder
	batch, query [][]int32
	texts        []string
	mixedIDs     [][]int32       // the texts' ids from the last mixed run
	mixedWeights []model.Weights // and their vectors
}

func newBenchOps(enc *model.Encoder, w benchWorkloads) *benchOps {
	m, tok := enc.Model(), enc.Tokenizer()
	rng := rand.New(rand.NewPCG(7, 7))
	// randomIDs returns n sequences of length l: [CLS], random wordpieces, [SEP].
	randomIDs := func(n, l int) [][]int32 {
		out := make([][]int32, n)
		for i := range out {
			s := make([]int32, l)
			for j := range s {
				s[j] = int32(rng.IntN(m.Config.Vocab))
			}
			s[0], s[l-1] = tok.CLSID(), tok.SEPID()
			out[i] = s
		}
		return out
	}
	return &benchOps{enc: enc, batch: randomIDs(16, w.docTokens), query: randomIDs(1, w.queryTokens), texts: w.texts}
}

// run runs one workload (batch, query or mixed) and returns its time. The
// mixed workload is encoded as "splade encode" does: tokenize, then encode
// in forward passes of at most BatchTokens tokens, nothing padded.
func (o *benchOps) run(op string) (time.Duration, error) {
	start := time.Now()
	switch op {
	case "batch":
		if _, err := o.enc.EncodeIDs(o.batch); err != nil {
			return 0, fmt.Errorf("batch of 16 x %d tokens: %w", len(o.batch[0]), err)
		}
	case "query":
		if _, err := o.enc.EncodeIDs(o.query); err != nil {
			return 0, fmt.Errorf("query of %d tokens: %w", len(o.query[0]), err)
		}
	case "mixed":
		if len(o.texts) == 0 {
			return 0, fmt.Errorf("mixed workload: no texts")
		}
		ids, err := o.enc.Tokenize(o.texts)
		if err != nil {
			return 0, err
		}
		ws, err := o.enc.EncodeIDs(ids)
		if err != nil {
			return 0, err
		}
		o.mixedIDs, o.mixedWeights = ids, ws
	default:
		return 0, fmt.Errorf("unknown workload %q (want batch, query or mixed)", op)
	}
	return time.Since(start), nil
}

// benchEncode times the workloads with enc and returns the results, the
// texts' token ids and their SPLADE weights.
func benchEncode(enc *model.Encoder, w benchWorkloads) (benchEncodeResult, [][]int32, []model.Weights, error) {
	res := benchEncodeResult{Engine: benchEngine()}
	ops := newBenchOps(enc, w)
	// timeRuns runs op once to warm up, then n times, and returns the median.
	timeRuns := func(n int, op string) (time.Duration, error) {
		if _, err := ops.run(op); err != nil {
			return 0, err
		}
		ts := make([]time.Duration, n)
		for i := range ts {
			var err error
			if ts[i], err = ops.run(op); err != nil {
				return 0, err
			}
		}
		slices.Sort(ts)
		return ts[n/2], nil
	}
	d, err := timeRuns(5, "batch")
	if err != nil {
		return res, nil, nil, err
	}
	res.Batch16x128 = 16 / d.Seconds()
	if d, err = timeRuns(30, "query"); err != nil {
		return res, nil, nil, err
	}
	res.Query16MS = float64(d.Microseconds()) / 1000
	if len(w.texts) == 0 {
		return res, nil, nil, nil
	}
	start := time.Now()
	if _, err := enc.Tokenize(w.texts); err != nil {
		return res, nil, nil, err
	}
	tokenized := time.Since(start)
	elapsed, err := ops.run("mixed")
	if err != nil {
		return res, nil, nil, err
	}
	ids := ops.mixedIDs
	res.MixedDocs = len(ids)
	res.MixedDocsPerS = float64(len(ids)) / elapsed.Seconds()
	res.MixedTokenizeMS = float64(tokenized.Microseconds()) / 1000
	total := 0
	for _, s := range ids {
		total += len(s)
	}
	res.MixedMeanTokens = float64(total) / float64(len(ids))
	return res, ids, ops.mixedWeights, nil
}

func benchEngine() string {
	return fmt.Sprintf("splade-go %s (kernels %s)", runtime.Version(), kernels.Path())
}

// serveLockstep is bench-encode --lockstep: it prints a JSON line with the
// engine, then for each line of in (batch, query or mixed) runs that
// workload once and prints {"op": ..., "s": seconds}, so that a driver can
// interleave the engines workload by workload on a shared machine.
func serveLockstep(ops *benchOps, in io.Reader, out io.Writer) error {
	enc := json.NewEncoder(out)
	if err := enc.Encode(map[string]any{"engine": benchEngine(), "ready": true}); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		op := strings.TrimSpace(sc.Text())
		if op == "" {
			continue
		}
		d, err := ops.run(op)
		if err != nil {
			return err
		}
		if err := enc.Encode(map[string]any{"op": op, "s": d.Seconds()}); err != nil {
			return err
		}
	}
	return sc.Err()
}

// readTexts returns the contents (title + text) of the first n texts of a
// corpus file.
func readTexts(path string, n int) ([]string, error) {
	in, err := corpus.Open(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	var out []string
	for len(out) < n {
		d, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d.Contents())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no texts", path)
	}
	return out, nil
}

func writeLengths(path string, ids [][]int32) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, s := range ids {
		fmt.Fprintln(w, len(s))
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeParity writes {"input_ids": [[...]], "weights": [{"ids", "values"}]}.
func writeParity(path string, ids [][]int32, ws []model.Weights) error {
	type vec struct {
		IDs    []int32   `json:"ids"`
		Values []float32 `json:"values"`
	}
	p := struct {
		InputIDs [][]int32 `json:"input_ids"`
		Weights  []vec     `json:"weights"`
	}{InputIDs: ids}
	for _, w := range ws {
		p.Weights = append(p.Weights, vec{w.IDs, w.Values})
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
