package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/synth"
)

func init() {
	register(command{name: "synth", summary: "generate a synthetic SPLADE-like collection of sparse vectors", run: runSynth})
}

const synthHelp = `Writes deterministic synthetic document and query vectors whose statistics
resemble SPLADE++ encodings of MS MARCO (~130 non-zeros per document with a
skewed spread, a head of near-ubiquitous expansion terms, Zipfian terms,
topical documents, ~44 non-zeros per query, FLOPS between 1 and 5), for
testing and benchmarking indexes without a model. Each query is written about
one document; --output-qrels records which (TREC qrels form). Files ending in .gz
are gzip-compressed. The same --seed always gives the same files.

Examples:
  splade synth --docs 100000 --queries 1000 --output-docs docs.jsonl.gz --output-queries queries.jsonl
  splade synth --docs 1000000 --queries 6980 --seed 7 --output-docs d.jsonl --output-queries q.jsonl --output-qrels qrels.txt`

func runSynth(args []string) error {
	fs := newFlags("synth", "--docs N --queries M --output-docs FILE --output-queries FILE [flags]", synthHelp)
	docs := fs.Int("docs", 0, "number of documents")
	queries := fs.Int("queries", 0, "number of queries")
	seed := fs.Int64("seed", 1, "random seed")
	vocab := fs.Int("vocab", 30522, "vocabulary size")
	outDocs := fs.String("output-docs", "", "document vectors output (JSONL; .gz to compress)")
	outQueries := fs.String("output-queries", "", "query vectors output (JSONL; .gz to compress)")
	outQrels := fs.String("output-qrels", "", "optional: TREC qrels naming each query's document")
	alias(fs, "output-docs", "out-docs")
	alias(fs, "output-queries", "out-queries")
	alias(fs, "output-qrels", "out-qrels")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *docs <= 0:
		return usagef("--docs must be positive")
	case *queries < 0:
		return usagef("--queries must not be negative")
	case *vocab <= 0:
		return usagef("--vocab must be positive")
	case *outDocs == "":
		return usagef("--output-docs is required")
	case *queries > 0 && *outQueries == "":
		return usagef("--output-queries is required when --queries > 0")
	}
	g := synth.New(synth.Options{Docs: *docs, Queries: *queries, Seed: *seed, Vocab: *vocab})
	start := time.Now()
	if err := writeVectors(*outDocs, *docs, g.Doc, "documents"); err != nil {
		return err
	}
	slog.Info("wrote documents", "file", *outDocs, "count", *docs, "seconds", time.Since(start).Seconds())
	if *queries > 0 {
		if err := writeVectors(*outQueries, *queries, g.Query, "queries"); err != nil {
			return err
		}
		slog.Info("wrote queries", "file", *outQueries, "count", *queries)
	}
	if *outQrels != "" {
		err := writeFile(*outQrels, func(w io.Writer) error {
			bw := bufio.NewWriter(w)
			for i := range *queries {
				fmt.Fprintf(bw, "%s 0 %s 1\n", synth.QueryID(i), synth.DocID(g.RelevantDoc(i)))
			}
			return bw.Flush()
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// writeVectors generates and serialises records 0..n-1 on all cores, in
// chunks, and writes the chunks in order.
func writeVectors(path string, n int, gen func(int) sparse.Record, what string) error {
	return writeFile(path, func(w io.Writer) error {
		const chunk = 512
		workers := runtime.GOMAXPROCS(0)
		type batch struct {
			lo, n int
			buf   bytes.Buffer
			err   error
			done  chan struct{}
		}
		// Batches are made in parallel but queued in index order; the
		// queue's capacity bounds memory.
		queue := make(chan *batch, 2*workers)
		sem := make(chan struct{}, workers)
		var wg sync.WaitGroup
		go func() {
			for lo := 0; lo < n; lo += chunk {
				b := &batch{lo: lo, n: min(chunk, n-lo), done: make(chan struct{})}
				queue <- b
				sem <- struct{}{}
				wg.Go(func() {
					sw := sparse.NewWriter(&b.buf)
					for i := b.lo; i < b.lo+b.n && b.err == nil; i++ {
						b.err = sw.Write(gen(i))
					}
					if b.err == nil {
						b.err = sw.Flush()
					}
					close(b.done)
					<-sem
				})
			}
			close(queue)
		}()
		bar := newProgress(int64(n), what)
		var werr error
		for b := range queue {
			<-b.done
			if werr == nil {
				werr = b.err
			}
			if werr == nil {
				_, werr = w.Write(b.buf.Bytes())
			}
			bar.Add(b.n)
		}
		wg.Wait()
		bar.Finish()
		return werr
	})
}

// writeFile creates path, gzip-compressing when it ends in .gz, and runs
// write on it; the file is complete only when no error is returned.
func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if !strings.HasSuffix(path, ".gz") {
		return write(f)
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err != nil {
		return err
	}
	return errors.Join(write(zw), zw.Close())
}
