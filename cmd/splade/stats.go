package main

import (
	"fmt"
	"os"

	"github.com/splade-go/splade/eval"
)

func init() {
	register(command{name: "stats", summary: "sparsity statistics and FLOPS of document and query vectors", run: runStats})
}

const statsHelp = `Reads document and query vectors (JSON lines {"id", "vector": {term: weight}},
.gz ok) and prints the numbers by which the SPLADE papers compare sparse
representations: non-zeros per document and per query (mean, min, max), the
number of distinct terms, and FLOPS = sum_j p_q(j) p_d(j), the expected number
of multiply-adds per query-document pair, where p_q(j) (p_d(j)) is the fraction
of queries (documents) in which term j is non-zero.

Examples:
  splade stats --docs docs.jsonl.gz --queries queries.jsonl
  splade synth --docs 100000 --queries 1000 --output-docs d.jsonl.gz --output-queries q.jsonl && \
    splade stats --docs d.jsonl.gz --queries q.jsonl`

func runStats(args []string) error {
	fs := newFlags("stats", "--docs FILE --queries FILE", statsHelp)
	docs := fs.String("docs", "", "document vectors (JSONL, .gz ok)")
	queries := fs.String("queries", "", "query vectors (JSONL, .gz ok)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *docs == "" || *queries == "" {
		return usagef("--docs and --queries are required (see splade stats -h)")
	}
	s, err := eval.VectorStats(*docs, *queries)
	if err != nil {
		return err
	}
	w := os.Stdout
	for _, row := range []struct {
		what string
		t    *eval.TermStats
	}{{"docs", s.Docs}, {"queries", s.Queries}} {
		fmt.Fprintf(w, "%s\t%d\n", row.what, row.t.N)
		fmt.Fprintf(w, "%s_nnz_mean\t%.2f\n", row.what, row.t.MeanNNZ())
		fmt.Fprintf(w, "%s_nnz_min\t%d\n", row.what, row.t.MinNNZ)
		fmt.Fprintf(w, "%s_nnz_max\t%d\n", row.what, row.t.MaxNNZ)
		fmt.Fprintf(w, "%s_distinct_terms\t%d\n", row.what, len(row.t.DF))
	}
	_, err = fmt.Fprintf(w, "flops\t%.4f\n", s.FLOPS)
	return err
}
