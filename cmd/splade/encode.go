package main

import (
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/internal/defaultmodel"
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

Long documents: without --chunk a text is truncated to --max-length tokens.
With --chunk N, each document's wordpieces are split into passages of N
wordpieces starting every --stride M wordpieces (M < N overlaps them; the
last passage may be shorter; a document of at most N wordpieces is one
passage), and each passage is encoded on its own, with its own [CLS] and
[SEP]. Passage records carry the document in a separate field,
  {"id": "doc7#0", "doc": "doc7", "contents": "", "vector": {...}}
("#" and the passage number from 0 make the id; the index reads "doc", never
the id). splade index keeps the passage -> document map, and splade search
and serve then return documents scored by their best passage (MaxP).

Examples:
  splade encode --model splade-v3 --input ../shared/data/beir/scifact/corpus.jsonl.gz --output docs.jsonl.gz
  splade encode --model splade-v3 --query --input queries.tsv --output queries.jsonl --top-k 64
  splade encode --model distilsplade-max --input collection.tsv --output - --threads 8 --threshold 0.01
  splade encode --model splade-v3 --input long-docs.jsonl --output passages.jsonl.gz --chunk 254 --stride 128`

func runEncode(args []string) error {
	fs := newFlags("encode", "--model DIR --input FILE --output FILE [flags]", encodeHelp)
	input := fs.String("input", "", "texts to encode: BEIR JSONL or id<TAB>text TSV (.gz ok, - for stdin)")
	output := fs.String("output", "", "vectors, JSONL (.gz: gzipped, - for stdout)")
	query := fs.Bool("query", false, "the input holds queries (default --max-length 64, DIR/query if present)")
	ef := addEncoderFlags(fs, "model directory (Hugging Face layout)", true, nil)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ef.model == "" || *input == "" || *output == "" {
		return usagef("--model, --input and --output are required (see splade encode -h)")
	}
	enc, tok, ch, err := ef.load(*query)
	if err != nil {
		return err
	}
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
	sw := sparse.NewWriter(out)
	n, err := encodeStream(in, enc, tok, *ef.batchTokens, ch, func(rec sparse.Record, _ int) error { return sw.Write(rec) })
	if err == nil {
		err = sw.Flush()
	}
	if cerr := closeOut(err == nil); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	if ch.size > 0 {
		slog.Info("encoded", "documents", n.docs, "passages", n.texts, "passages_per_document", round(float64(n.texts)/float64(max(1, n.docs)), 2),
			"output", *output, "seconds", round(secs, 1), "passages_per_second", round(float64(n.texts)/secs, 1))
		return nil
	}
	slog.Info("encoded", "texts", n.texts, "output", *output, "seconds", round(secs, 1), "texts_per_second", round(float64(n.texts)/secs, 1))
	return nil
}

// encoderFlags are the flags of a command that runs a SPLADE encoder:
// splade encode, and splade index and search with --model.
type encoderFlags struct {
	model, pooling                                    *string
	maxLen, topK, threads, batchTokens, chunk, stride *int
	threshold                                         *float64
}

// addEncoderFlags defines the encoder flags on fs; passages adds --chunk
// and --stride (documents split into passages, MaxP). threads, when not
// nil, is a --threads the command defines for itself (splade search's
// parallel queries), which then sets the encoder's threads too.
func addEncoderFlags(fs *flag.FlagSet, modelHelp string, passages bool, threads *int) *encoderFlags {
	if threads == nil {
		threads = fs.Int("threads", 0, "threads (0: all cores)")
	}
	f := &encoderFlags{
		model:       fs.String("model", "", modelHelp),
		pooling:     fs.String("pooling", "max", "SPLADE pooling over tokens: max or sum"),
		maxLen:      fs.Int("max-length", 0, "tokens per text incl. [CLS]/[SEP] (0: 256 for documents, 64 for queries)"),
		topK:        fs.Int("top-k", 0, "keep only the k heaviest terms per text (0: all)"),
		threshold:   fs.Float64("threshold", 0, "drop terms whose weight is below this"),
		threads:     threads,
		batchTokens: fs.Int("batch-tokens", model.DefaultBatchTokens, "tokens per forward pass (bounds memory)"),
		chunk:       new(int),
		stride:      new(int),
	}
	if passages {
		f.chunk = fs.Int("chunk", 0, "split documents into passages of this many wordpieces, [CLS]/[SEP] excluded (0: one text each, truncated)")
		f.stride = fs.Int("stride", 0, "with --chunk: wordpieces from one passage's start to the next (0: --chunk, no overlap; at most --chunk)")
	}
	return f
}

// load checks the flags and loads the encoder of queries (query) or
// documents: DIR/query or DIR/document when the model has them, the
// embedded model for "default".
func (f *encoderFlags) load(query bool) (*model.Encoder, *tokenize.Tokenizer, chunking, error) {
	var pool kernels.Pooling
	switch *f.pooling {
	case "max":
		pool = kernels.PoolMax
	case "sum":
		pool = kernels.PoolSum
	default:
		return nil, nil, chunking{}, usagef("--pooling %q: want max or sum", *f.pooling)
	}
	maxLen, chunk, stride := *f.maxLen, *f.chunk, *f.stride
	if maxLen < 0 || *f.topK < 0 || *f.threshold < 0 || *f.threads < 0 || *f.batchTokens <= 0 {
		return nil, nil, chunking{}, usagef("--max-length, --top-k, --threshold and --threads must not be negative, --batch-tokens must be positive")
	}
	if chunk < 0 || stride < 0 || (stride > 0 && chunk == 0) || stride > chunk {
		return nil, nil, chunking{}, usagef("--chunk must not be negative; --stride needs --chunk and must be at most --chunk (a larger stride would skip text)")
	}
	if chunk > 0 && query {
		return nil, nil, chunking{}, usagef("--chunk splits documents; queries are encoded whole")
	}
	if chunk > 0 && stride == 0 {
		stride = chunk
	}
	if chunk > 0 && maxLen == 0 {
		maxLen = chunk + 2
	}
	if chunk > 0 && chunk+2 > maxLen {
		return nil, nil, chunking{}, usagef("--chunk %d needs --max-length of at least %d ([CLS] and [SEP] included), got %d", chunk, chunk+2, maxLen)
	}
	explicitLen := maxLen != 0
	if maxLen == 0 {
		maxLen = model.DefaultDocLength
		if query {
			maxLen = model.DefaultQueryLength
		}
	}
	modelDir, err := encoderDir(*f.model, query)
	if err != nil {
		return nil, nil, chunking{}, err
	}
	m, tok, err := model.LoadWithTokenizer(modelDir)
	if err != nil {
		return nil, nil, chunking{}, err
	}
	if chunk > 0 && chunk+2 > m.Config.MaxPositions {
		return nil, nil, chunking{}, usagef("--chunk %d: passages of %d tokens with [CLS] and [SEP] exceed the model's %d positions", chunk, chunk+2, m.Config.MaxPositions)
	}
	if explicitLen && maxLen > m.Config.MaxPositions {
		slog.Warn("--max-length exceeds the model's positions; using the model's limit", "max_length", maxLen, "limit", m.Config.MaxPositions)
	}
	enc, err := model.NewEncoder(m, tok, model.Options{Pooling: pool, MaxLength: maxLen, TopK: *f.topK,
		Threshold: float32(*f.threshold), Threads: *f.threads, BatchTokens: *f.batchTokens})
	if err != nil {
		return nil, nil, chunking{}, err
	}
	slog.Info("model loaded", "dir", modelDir, "arch", m.Config.Arch, "layers", m.Config.Layers,
		"hidden", m.Config.Hidden, "vocab", m.Config.Vocab, "kernels", kernels.Path(), "threads", kernels.NewPool(*f.threads).Threads())
	return enc, tok, chunking{chunk, stride}, nil
}

// chunking splits documents into passages of size wordpieces every stride
// wordpieces; size 0 encodes each text whole.
type chunking struct{ size, stride int }

// encodeCount is what encodeStream wrote: texts (passages when chunking)
// of docs input documents.
type encodeCount struct{ texts, docs int }

// encoderDir picks the query or document encoder of a model directory;
// "default" names the embedded model (package defaultmodel).
func encoderDir(dir string, query bool) (string, error) {
	dir, err := defaultmodel.Resolve(dir)
	if err != nil {
		return "", err
	}
	exists := func(p string) bool { _, err := os.Stat(filepath.Join(p, "config.json")); return err == nil }
	if query && exists(filepath.Join(dir, "query")) {
		return filepath.Join(dir, "query"), nil
	}
	if !query && !exists(dir) && exists(filepath.Join(dir, "document")) {
		return filepath.Join(dir, "document"), nil
	}
	return dir, nil
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
	docs   []string // when chunking: the document of each passage
	lines  []int    // the input line of each text
	tokens [][]int32
	inputs int   // input documents whose texts are all in this batch
	err    error // a read error after the texts above
}

// encodeStream runs reader -> encoder -> sink. The reader goroutine
// tokenizes texts into batches of about batchTokens tokens, the encoder
// goroutine turns each batch into vectors, and this goroutine hands each
// record to sink (a vector file, an index builder, a query list) with the
// input line it came from (passages: their document's); the channels hold
// two batches each, so memory stays bounded whatever the input size, and
// the records keep the input order.
func encodeStream(in *corpus.Reader, enc *model.Encoder, tok *tokenize.Tokenizer, batchTokens int, ch chunking, sink func(rec sparse.Record, line int) error) (encodeCount, error) {
	maxLen := enc.Options().MaxLength
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
			line := in.Line()
			if ch.size == 0 {
				ids := tok.Encode(d.Contents(), maxLen)
				b.ids = append(b.ids, d.ID)
				b.lines = append(b.lines, line)
				b.tokens = append(b.tokens, ids)
				tokens += len(ids)
			} else {
				ps, err := tok.EncodePassages(d.Contents(), ch.size, ch.stride)
				if err != nil { // flags are checked before; kept for safety
					b.err = err
					send()
					return
				}
				for i, p := range ps {
					b.ids = append(b.ids, sparse.PassageID(d.ID, i))
					b.docs = append(b.docs, d.ID)
					b.lines = append(b.lines, line)
					b.tokens = append(b.tokens, p)
					tokens += len(p)
				}
			}
			b.inputs++
			if tokens >= batchTokens {
				if !send() {
					return
				}
			}
		}
	}()

	type encoded struct {
		ids, docs []string
		lines     []int
		inputs    int
		vecs      []model.Weights
		err       error
	}
	results := make(chan encoded, 2)
	go func() {
		defer close(results)
		for b := range batches {
			var r encoded
			if len(b.ids) > 0 {
				r.ids, r.docs, r.lines, r.inputs = b.ids, b.docs, b.lines, b.inputs
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

	bar := newProgress(-1, "encoding")
	defer bar.Finish()
	var n encodeCount
	for r := range results {
		for i, id := range r.ids {
			if r.vecs == nil {
				break
			}
			rec := sparse.Record{ID: id, Vector: enc.Vector(r.vecs[i])}
			if r.docs != nil {
				rec.Doc = r.docs[i]
			}
			if err := sink(rec, r.lines[i]); err != nil {
				return n, err
			}
			n.texts++
		}
		if r.vecs != nil {
			n.docs += r.inputs
		}
		bar.Add(len(r.vecs))
		if r.err != nil {
			return n, r.err
		}
	}
	return n, nil
}
