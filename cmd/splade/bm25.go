package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/splade-go/splade/bm25"
	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/eval"
)

func init() {
	register(command{name: "bm25", summary: "BM25 retrieval as Anserini runs it; hard negatives for training", run: runBM25})
}

const bm25Help = `Indexes a corpus in memory and retrieves the top --k documents for every
query with BM25 exactly as Anserini's defaults (Lucene StandardTokenizer,
possessive, lower-case, stop-word and Porter filters; Lucene's BM25 with its
one-byte document lengths; k1=0.9, b=0.4; ties broken by document id). The
corpus and queries are BEIR JSON lines (_id, title, text) or id<TAB>text TSV,
gzip allowed; documents are indexed as title + " " + text.

--output writes a TREC run (qid Q0 docid rank score tag). --negatives writes,
for every query judged in --qrels, the --n best BM25 documents not judged
relevant (qid<TAB>docid<TAB>rank<TAB>score): the hard negatives that SPLADE
training pairs with each relevant document. With --negatives alone, only the
judged queries are searched.

Anserini's BEIR regressions also drop a document whose id equals the query
id (--remove-query) and print scores rounded to 4 decimals with ties nudged
apart (--anserini-scores), which fixes their order for trec_eval.

Examples:
  splade bm25 --corpus ../shared/data/beir/scifact/corpus.jsonl.gz \
      --queries ../shared/data/beir/scifact/queries.jsonl --remove-query --output bm25.trec
  splade eval --qrels ../shared/data/beir/scifact/qrels/test.tsv --run bm25.trec
  splade bm25 --corpus corpus.jsonl.gz --queries queries.jsonl \
      --qrels qrels/train.tsv --negatives negatives.tsv --n 50
  splade bm25 --corpus collection.tsv --queries queries.dev.tsv --k 100 --k1 0.82 --b 0.68 --output run.trec`

type bm25Config struct {
	corpus, queries, output, tag string
	negatives, qrels             string
	k, n, threads                int
	params                       bm25.Params
	removeQuery, anseriniScores  bool
}

func runBM25(args []string) error {
	fs := newFlags("bm25", "--corpus FILE --queries FILE (--output FILE | --negatives FILE --qrels FILE) [flags]", bm25Help)
	var c bm25Config
	fs.StringVar(&c.corpus, "corpus", "", "documents: BEIR JSONL or id<TAB>text TSV (.gz ok)")
	fs.StringVar(&c.queries, "queries", "", "queries: BEIR JSONL or id<TAB>text TSV (.gz ok)")
	fs.StringVar(&c.output, "output", "", "TREC run to write")
	fs.IntVar(&c.k, "k", 1000, "documents retrieved per query")
	k1 := fs.Float64("k1", float64(bm25.AnseriniParams.K1), "BM25 term frequency saturation")
	b := fs.Float64("b", float64(bm25.AnseriniParams.B), "BM25 length normalization (0..1)")
	fs.BoolVar(&c.removeQuery, "remove-query", false, "drop a retrieved document whose id equals the query id (Anserini -removeQuery)")
	fs.BoolVar(&c.anseriniScores, "anserini-scores", false, "write scores rounded to 4 decimals with ties nudged apart, as Anserini")
	fs.StringVar(&c.tag, "tag", "bm25", "run tag (last column of the run)")
	fs.IntVar(&c.threads, "threads", 0, "queries searched in parallel (0: all CPUs)")
	fs.StringVar(&c.negatives, "negatives", "", "write hard negatives (qid<TAB>docid<TAB>rank<TAB>score) to this file")
	fs.StringVar(&c.qrels, "qrels", "", "relevance judgments for --negatives (TREC or BEIR TSV)")
	fs.IntVar(&c.n, "n", 50, "hard negatives per judged query")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c.params = bm25.Params{K1: float32(*k1), B: float32(*b)}
	switch {
	case c.corpus == "" || c.queries == "":
		return usagef("--corpus and --queries are required (see splade bm25 -h)")
	case c.output == "" && c.negatives == "":
		return usagef("nothing to write: give --output, --negatives, or both")
	case (c.negatives == "") != (c.qrels == ""):
		return usagef("--negatives and --qrels go together")
	case c.k <= 0:
		return usagef("--k must be positive, got %d", c.k)
	case c.negatives != "" && c.n <= 0:
		return usagef("--n must be positive, got %d", c.n)
	}
	if err := c.params.Validate(); err != nil {
		return usagef("%v", err)
	}
	return bm25Main(c)
}

func bm25Main(c bm25Config) error {
	var qrels eval.Qrels
	if c.qrels != "" {
		var err error
		if qrels, err = eval.ReadQrels(c.qrels); err != nil {
			return err
		}
	}
	queries, err := bm25ReadQueries(c.queries, func(id string) bool {
		_, judged := qrels[id]
		return c.output != "" || judged
	})
	if err != nil {
		return err
	}

	start := time.Now()
	ix, err := bm25IndexCorpus(c.corpus)
	if err != nil {
		return err
	}
	slog.Info("indexed", "docs", ix.NumDocs(), "terms", ix.NumTerms(), "avgdl", round(ix.AvgDocLength(), 2),
		"seconds", round(time.Since(start).Seconds(), 1))

	start = time.Now()
	bar := newProgress(int64(len(queries)), "searching")
	results, err := ix.SearchAll(queries, bm25.Options{Params: c.params, K: c.k, Workers: c.threads,
		RemoveQueryID: c.removeQuery, Progress: func() { bar.Add(1) }})
	bar.Finish()
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	slog.Info("searched", "queries", len(queries), "queries_per_second", round(float64(len(queries))/max(secs, 1e-9), 0))

	if c.negatives != "" {
		if err := bm25WriteFile(c.negatives, func(w io.Writer) error { return bm25WriteNegatives(w, queries, results, qrels, c.n) }); err != nil {
			return err
		}
	}
	if c.output != "" {
		return bm25WriteFile(c.output, func(w io.Writer) error {
			return writeBM25Run(w, queries, results, c.tag, c.anseriniScores)
		})
	}
	return nil
}

// bm25ReadQueries reads the queries that keep accepts.
func bm25ReadQueries(path string, keep func(id string) bool) ([]bm25.Query, error) {
	r, err := corpus.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var qs []bm25.Query
	for {
		d, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if keep(d.ID) {
			qs = append(qs, bm25.Query{ID: d.ID, Text: d.Contents()})
		}
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("%s: no queries to search", path)
	}
	return qs, nil
}

func bm25IndexCorpus(path string) (*bm25.Index, error) {
	r, err := corpus.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	bar := newProgress(-1, "indexing")
	defer bar.Finish()
	b := bm25.NewBuilder(nil)
	if err := b.AddCorpus(r, func(docs int) { bar.Set(docs) }); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b.Build(), nil
}

func writeBM25Run(w io.Writer, queries []bm25.Query, results [][]bm25.Result, tag string, anseriniScores bool) error {
	var er []eval.Result
	for i, q := range queries {
		if anseriniScores {
			bm25.AdjustTies(results[i])
		}
		er = er[:0]
		for _, r := range results[i] {
			er = append(er, eval.Result{DocID: r.DocID, Score: float64(r.Score)})
		}
		if err := eval.WriteRun(w, q.ID, er, tag); err != nil {
			return err
		}
	}
	return nil
}

func bm25WriteNegatives(w io.Writer, queries []bm25.Query, results [][]bm25.Result, qrels eval.Qrels, n int) error {
	judged, written := 0, 0
	for i, q := range queries {
		rel, ok := qrels[q.ID]
		if !ok {
			continue
		}
		judged++
		negs := bm25.HardNegatives(q.ID, results[i], rel, n)
		written += len(negs)
		if err := bm25.WriteNegatives(w, negs); err != nil {
			return err
		}
	}
	if missing := len(qrels) - judged; missing > 0 {
		slog.Warn("judged queries missing from the query file get no negatives", "missing", missing)
	}
	slog.Info("hard negatives", "queries", judged, "negatives", written)
	return nil
}

// bm25WriteFile creates path and writes it through a buffer with fill.
func bm25WriteFile(path string, fill func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
