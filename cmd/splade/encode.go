package main

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/kernels"
	"github.com/splade-go/splade/model"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/tokenize"
)

func init() {
	register(command{name: "encode", summary: "encode documents or queries into SPLADE vectors (JSONL)", run: runEncode})
}

const encodeHelp = `Encodes a corpus or a query file with a SPLADE model into sparse vectors, one
JSON line per text in Anserini's JsonVectorCollection layout
({"id", "contents", "vector": {wordpiece: weight}}), in input order.

The model directory is in the Hugging Face layout: config.json (bert or
distilbert), model.safetensors or pytorch_model.bin, and vocab.txt or
tokenizer.json. With --query, DIR/query is used when it exists (models
published as separate query and document encoders); without it,
DIR/document is used when DIR itself holds no config.json.

Input is BEIR JSON lines (_id, title, text; title and text are joined) or
id<TAB>text TSV; either may be gzipped. Output ending in .gz is gzipped.

Examples:
  splade encode --model splade-v3 --input ../shared/data/beir/scifact/corpus.jsonl.gz --output docs.jsonl.gz
  splade encode --model splade-v3 --query --input queries.tsv --output queries.jsonl --top-k 64
  splade encode --model distilsplade-max --input collection.tsv --output - --threads 8 --threshold 0.01`

func runEncode(args []string) error {
	fs := newFlags("encode", "--model DIR --input FILE --output FILE [flags]", encodeHelp)
	dir := fs.String("model", "", "model directory (Hugging Face layout)")
	input := fs.String("input", "", "texts to encode: BEIR JSONL or id<TAB>text TSV (.gz ok, - for stdin)")
	output := fs.String("output", "", "vectors, JSONL (.gz: gzipped, - for stdout)")
	query := fs.Bool("query", false, "the input holds queries (default --max-length 64, DIR/query if present)")
	pooling := fs.String("pooling", "max", "SPLADE pooling over tokens: max or sum")
	maxLen := fs.Int("max-length", 0, "tokens per text incl. [CLS]/[SEP] (0: 256 for documents, 64 for queries)")
	topK := fs.Int("top-k", 0, "keep only the k heaviest terms per text (0: all)")
	threshold := fs.Float64("threshold", 0, "drop terms whose weight is below this")
	threads := fs.Int("threads", 0, "threads (0: all cores)")
	batchTokens := fs.Int("batch-tokens", model.DefaultBatchTokens, "tokens per forward pass (bounds memory)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || *input == "" || *output == "" {
		return usagef("--model, --input and --output are required (see splade encode -h)")
	}
	var pool kernels.Pooling
	switch *pooling {
	case "max":
		pool = kernels.PoolMax
	case "sum":
		pool = kernels.PoolSum
	default:
		return usagef("--pooling %q: want max or sum", *pooling)
	}
	if *maxLen < 0 || *topK < 0 || *threshold < 0 || *threads < 0 || *batchTokens <= 0 {
		return usagef("--max-length, --top-k, --threshold and --threads must not be negative, --batch-tokens must be positive")
	}
	explicitLen := *maxLen != 0
	if *maxLen == 0 {
		*maxLen = model.DefaultDocLength
		if *query {
			*maxLen = model.DefaultQueryLength
		}
	}

	modelDir := encoderDir(*dir, *query)
	m, tok, err := model.LoadWithTokenizer(modelDir)
	if err != nil {
		return err
	}
	if explicitLen && *maxLen > m.Config.MaxPositions {
		slog.Warn("--max-length exceeds the model's positions; using the model's limit", "max-length", *maxLen, "limit", m.Config.MaxPositions)
	}
	enc, err := model.NewEncoder(m, tok, model.Options{Pooling: pool, MaxLength: *maxLen, TopK: *topK,
		Threshold: float32(*threshold), Threads: *threads, BatchTokens: *batchTokens})
	if err != nil {
		return err
	}
	slog.Info("model loaded", "dir", modelDir, "arch", m.Config.Arch, "layers", m.Config.Layers,
		"hidden", m.Config.Hidden, "vocab", m.Config.Vocab, "kernels", kernels.Path(), "threads", kernels.NewPool(*threads).Threads())

	in, err := corpus.Open(*input)
	if err != nil {
		return err
	}
	defer in.Close()
	out, closeOut, err := createOutput(*output)
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := encodeStream(in, enc, tok, out, *batchTokens, enc.Options().MaxLength)
	if cerr := closeOut(err == nil); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	slog.Info("encoded", "texts", n, "output", *output, "seconds", fmt.Sprintf("%.1f", secs), "texts/s", fmt.Sprintf("%.1f", float64(n)/secs))
	return nil
}

// encoderDir picks the query or document encoder of a model directory.
func encoderDir(dir string, query bool) string {
	exists := func(p string) bool { _, err := os.Stat(filepath.Join(p, "config.json")); return err == nil }
	if query && exists(filepath.Join(dir, "query")) {
		return filepath.Join(dir, "query")
	}
	if !query && !exists(dir) && exists(filepath.Join(dir, "document")) {
		return filepath.Join(dir, "document")
	}
	return dir
}

// createOutput opens the output ("-": stdout; .gz: gzipped). close(ok)
// flushes it, or removes a partial file when ok is false.
func createOutput(path string) (io.Writer, func(ok bool) error, error) {
	if path == "-" {
		return os.Stdout, func(bool) error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	var w io.Writer = f
	var gz *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		gz = gzip.NewWriter(f)
		w = gz
	}
	return w, func(ok bool) error {
		var err error
		if gz != nil {
			err = gz.Close()
		}
		err = errors.Join(err, f.Close())
		if !ok || err != nil {
			os.Remove(path)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	}, nil
}

// textBatch is a group of consecutive input texts, tokenized.
type textBatch struct {
	ids    []string
	tokens [][]int32
	err    error // a read error after the texts above
}

// encodeStream runs reader -> encoder -> writer. The reader goroutine
// tokenizes texts into batches of about batchTokens tokens, the encoder
// goroutine turns each batch into vectors, and this goroutine writes them;
// the channels hold two batches each, so memory stays bounded whatever
// the input size, and the output keeps the input order.
func encodeStream(in *corpus.Reader, enc *model.Encoder, tok *tokenize.Tokenizer, w io.Writer, batchTokens, maxLen int) (int, error) {
	done := make(chan struct{})
	defer close(done)
	batches := make(chan textBatch, 2)
	go func() {
		defer close(batches)
		var b textBatch
		tokens := 0
		send := func() bool {
			select {
			case batches <- b:
				b, tokens = textBatch{}, 0
				return true
			case <-done:
				return false
			}
		}
		for {
			d, err := in.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					b.err = err
				}
				if len(b.ids) > 0 || b.err != nil {
					send()
				}
				return
			}
			ids := tok.Encode(d.Contents(), maxLen)
			b.ids = append(b.ids, d.ID)
			b.tokens = append(b.tokens, ids)
			if tokens += len(ids); tokens >= batchTokens {
				if !send() {
					return
				}
			}
		}
	}()

	type encoded struct {
		ids  []string
		vecs []model.Weights
		err  error
	}
	results := make(chan encoded, 2)
	go func() {
		defer close(results)
		for b := range batches {
			var r encoded
			if len(b.ids) > 0 {
				r.ids = b.ids
				r.vecs, r.err = enc.EncodeIDs(b.tokens)
			}
			if r.err == nil {
				r.err = b.err
			}
			select {
			case results <- r:
			case <-done:
				return
			}
			if r.err != nil {
				return
			}
		}
	}()

	sw := sparse.NewWriter(w)
	bar := newProgress(-1, "encoding")
	defer bar.Finish()
	n := 0
	for r := range results {
		for i, id := range r.ids {
			if r.vecs == nil {
				break
			}
			if err := sw.Write(sparse.Record{ID: id, Vector: enc.Vector(r.vecs[i])}); err != nil {
				return n, err
			}
			n++
		}
		bar.Add(len(r.vecs))
		if r.err != nil {
			return n, r.err
		}
	}
	return n, sw.Flush()
}
