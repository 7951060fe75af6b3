package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/search"
	"github.com/splade-go/splade/sparse"
)

func init() {
	register(command{name: "search", summary: "retrieve the top-k documents for query vectors (TREC run)", run: runSearch})
}

const searchHelp = `Searches an index built by splade index with query vectors (JSON lines
{"id", "vector": {term: weight}}, .gz ok), or with --model with query texts
(BEIR JSONL or id<TAB>text TSV, .gz ok) encoded by the model's query encoder,
and writes a TREC run ("qid Q0 docid rank score tag"). With --model, an index
that records a vocabulary fingerprint (splade index --model, or
--fingerprint) must have the model's, or the search is refused. Modes:
  exhaustive  term-at-a-time over every posting; the reference
  maxscore    exact, document-at-a-time
  blockmax    exact Block-Max Pruning over ranges of documents; the fastest
              exact mode (with --forward-finish, on an index built with
              --seismic, faster at 100k-1M documents, slower at 8.8M)
  approx      Block-Max Pruning that stops once alpha x the best remaining
              range bound is below the k-th score, with range bounds from the
              heaviest query terms carrying a --query-cut fraction of the
              query weight; smaller values are faster, with lower recall
  seismic     Seismic (needs an index built with splade index --seismic):
              each heavy query term visits blocks of its largest postings by
              their summary scores, skipping those that miss --heap-factor x
              the k-th score; the fastest approximate mode on large
              collections. On a structure with a graph (splade index
              --seismic-neighbors) the neighbours of the best documents are
              scored too (--neighbors), more recall for the time
The approximate defaults keep recall@10 near 0.99 on synthetic SPLADE++-like
data (BENCHMARKS.md); their scores are exact, only documents may be missed.
All exact modes return identical rankings and scores. Queries run in parallel.
Block-max and approx build the index's bound views (in-memory maxima and
counts of its frequent terms) before a batch of 100 queries or more.

On an index of passages (splade encode --chunk), the run lists k documents,
each scored by its best passage (MaxP); --passages lists passages instead.

Examples:
  splade search --index idx --queries queries.jsonl --k 1000 --output run.trec
  splade search --index idx --model splade-v3 --queries queries.tsv --k 1000 --output run.trec
  splade search --index idx --queries q.jsonl --mode approx --k 10 --threads 8 --output run.trec
  splade search --index idx --queries q.jsonl --mode approx --alpha 0.8 --query-cut 0.4 --max-ranges 2000 --output run.trec
  splade search --index idx --queries q.jsonl --mode seismic --k 10 --heap-factor 0.9 --query-cut 0.5 --output run.trec
  splade search --index idx --queries q.jsonl --fingerprint "$FP" --output -
  splade search --index passage-idx --queries q.jsonl --passages --k 100 --output passages.trec`

// warmMinQueries is the smallest batch for which splade search builds the
// bound views first: a long batch builds most of them anyway (at 1M, 57 of
// the 64 MiB after 200 queries), and building them up front spares its
// first queries that work and the threads waiting on the view lock, where
// a few queries would pay for views they never use.
const warmMinQueries = 100

func runSearch(args []string) error {
	fs := newFlags("search", "--index DIR --queries FILE --output FILE [flags]", searchHelp)
	dir := fs.String("index", "", "index directory")
	queries := fs.String("queries", "", "query vectors (JSONL, .gz ok); with --model, query texts (BEIR JSONL or id<TAB>text TSV, .gz ok)")
	output := fs.String("output", "", "TREC run file to write (- for standard output)")
	k := fs.Int("k", 1000, "documents per query")
	modeS := fs.String("mode", "blockmax", "exhaustive, maxscore, blockmax, approx or seismic (needs splade index --seismic)")
	alpha := fs.Float64("alpha", search.DefaultAlpha, "approx mode: visit a range while alpha x its bound reaches the k-th score, in (0, 1]")
	cut := fs.Float64("query-cut", 0, fmt.Sprintf("approx and seismic modes: use the heaviest query terms carrying this fraction of the query weight, in (0, 1]; 0 = the mode's default (approx %g, seismic %g)", search.DefaultQueryCut, search.DefaultSeismicQueryCut))
	nbs := fs.Int("neighbors", 0, "seismic mode, on a structure with a graph (splade index --seismic-neighbors): score this many graph neighbours of each best document (0: all it holds, -1: none)")
	hf := fs.Float64("heap-factor", search.DefaultHeapFactor, "seismic mode: skip a block whose summary score misses this x the k-th score (smaller: more recall), in (0, 100]")
	fwdFinish := fs.Bool("forward-finish", false, "blockmax mode on an index built with --seismic: finish batches through its forward index (same results; faster at 100k-1M synthetic documents, slower at 8.8M: see BENCHMARKS.md)")
	maxRanges := fs.Int("max-ranges", 0, "approx mode: visit at most this many ranges per query (0 = no limit)")
	threads := fs.Int("threads", 0, "parallel queries (0 = all cores)")
	warmViews := fs.Bool("warm-views", true, fmt.Sprintf("blockmax and approx modes, batches of %d queries or more: build the index's bound views before the queries (index.WarmBoundViews) instead of during the first ones", warmMinQueries))
	fp := fs.String("fingerprint", "", "fingerprint of the query encoder; refused if it differs from the index's")
	tag := fs.String("tag", "splade", "run tag (last column)")
	passages := fs.Bool("passages", false, "on a passage index: rank passages (ids doc#n) instead of documents by best passage")
	ef := addEncoderFlags(fs, "encode the query texts of --queries with this SPLADE model (Hugging Face layout; DIR/query if present; \"default\": the embedded one)", false, threads)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || *queries == "" || *output == "" {
		return usagef("--index, --queries and --output are required (see splade search -h)")
	}
	mode, err := search.ParseMode(*modeS)
	if err != nil {
		return usagef("%v", err)
	}
	if *k < 1 {
		return usagef("--k must be >= 1")
	}
	if mode == search.Approx && !(*alpha > 0 && *alpha <= 1) {
		return usagef("--alpha must be in (0, 1]")
	}
	if mode == search.Seismic && !(*hf > 0 && *hf <= 100) {
		return usagef("--heap-factor must be in (0, 100]")
	}
	if (mode == search.Approx || mode == search.Seismic) && !(*cut >= 0 && *cut <= 1) {
		return usagef("--query-cut must be in (0, 1] (or 0 for the default)")
	}
	if *nbs < -1 {
		return usagef("--neighbors must be >= -1 (-1: none, 0: all the graph holds)")
	}
	if *maxRanges < 0 {
		return usagef("--max-ranges must be >= 0")
	}
	ix, err := index.Open(*dir)
	if err != nil {
		return err
	}
	defer ix.Close()
	var qs []sparse.Record
	if *ef.model != "" {
		var qfp string
		if qs, qfp, err = encodeQueries(*queries, ef); err != nil {
			return err
		}
		if *fp != "" && *fp != qfp {
			return usagef("--fingerprint %q differs from the model's %q", *fp, qfp)
		}
		if ix.Meta.Fingerprint == "" {
			slog.Warn("the index records no vocabulary fingerprint: the queries' vocabulary cannot be checked against it", "index", *dir)
		} else {
			*fp = qfp // refused below unless the index's
		}
	} else if qs, err = readQueries(*queries); err != nil {
		return err
	}
	search.ForwardFinish = *fwdFinish
	if *warmViews && len(qs) >= warmMinQueries && (mode == search.BlockMax || mode == search.Approx) {
		t0 := time.Now()
		st, err := ix.WarmBoundViews(context.Background())
		if err != nil {
			return err
		}
		slog.Info("bound views built", "terms", st.Terms, "refused", st.Refused, "mib", fmt.Sprintf("%.1f", float64(st.Bytes)/(1<<20)), "seconds", fmt.Sprintf("%.2f", time.Since(t0).Seconds()))
	}
	opt := search.Options{K: *k, Mode: mode, Alpha: *alpha, QueryCut: *cut, HeapFactor: *hf, Neighbors: *nbs, MaxRanges: *maxRanges, Fingerprint: *fp, Passages: *passages}
	bar := newProgress(int64(len(qs)), "searching")
	start := time.Now()
	results, err := search.New(ix).SearchBatch(qs, opt, *threads, func() { bar.Add(1) })
	bar.Finish()
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	var w io.Writer = os.Stdout
	var f *os.File
	if *output != "-" {
		if f, err = os.Create(*output); err != nil {
			return err
		}
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	for i, q := range qs {
		if err := search.WriteTREC(bw, q.ID, results[i], *tag); err != nil {
			return err
		}
	}
	err = bw.Flush()
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", *output, err)
	}
	slog.Info("search done", "queries", len(qs), "mode", mode.String(), "k", *k, "seconds", round(elapsed.Seconds(), 3),
		"ms_per_query", round(1000*elapsed.Seconds()/float64(max(1, len(qs))), 3))
	return nil
}

// encodeQueries encodes the query texts in path with the query encoder of
// ef (the corpus reader rejects duplicate ids); it returns the encoder's
// vocabulary fingerprint with them.
func encodeQueries(path string, ef *encoderFlags) ([]sparse.Record, string, error) {
	enc, tok, ch, err := ef.load(true)
	if err != nil {
		return nil, "", err
	}
	in, err := corpus.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer in.Close()
	var qs []sparse.Record
	_, err = encodeStream(in, enc, tok, *ef.batchTokens, ch, func(rec sparse.Record, _ int) error {
		qs = append(qs, rec)
		return nil
	})
	if err == nil && len(qs) == 0 {
		err = fmt.Errorf("%s: no queries", path)
	}
	return qs, tok.Fingerprint(), err
}

// readQueries loads a query vector file, rejecting duplicate ids.
func readQueries(path string) ([]sparse.Record, error) {
	r, err := sparse.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var qs []sparse.Record
	seen := map[string]int{}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if first, dup := seen[rec.ID]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate query id %q (first on line %d)", path, r.Line(), rec.ID, first)
		}
		seen[rec.ID] = r.Line()
		qs = append(qs, rec)
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("%s: no queries", path)
	}
	return qs, nil
}
