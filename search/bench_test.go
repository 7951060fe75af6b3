package search

import (
	"os"
	"strconv"
	"testing"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/sparse"
	"github.com/splade-go/splade/synth"
)

// BenchmarkModes measures each query processor on a synthetic
// SPLADE++-like collection (package synth) of SPLADE_BENCH_DOCS documents
// (default 20000); splade bench-search reports the same at larger scale
// with latency percentiles and recall.
func BenchmarkModes(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("SPLADE_BENCH_DOCS")); err == nil && v > 0 {
		n = v
	}
	g := synth.New(synth.Options{Docs: n, Queries: 100, Seed: 1})
	docs := make([]sparse.Record, n)
	for i := range docs {
		docs[i] = g.Doc(i)
	}
	ix := buildIndex(b, docs, index.BuildOptions{Reorder: true})
	s := New(ix)
	queries := make([]sparse.Record, 100)
	for i := range queries {
		queries[i] = g.Query(i)
	}
	for _, opt := range []Options{
		{K: 10, Mode: Exhaustive}, {K: 10, Mode: MaxScore}, {K: 10, Mode: BlockMax},
		{K: 10, Mode: Approx, Alpha: 0.9, QueryCut: 1}, {K: 10, Mode: Approx, Alpha: 0.7, QueryCut: 1},
		{K: 10, Mode: Approx}, // the defaults: DefaultAlpha, DefaultQueryCut
	} {
		name := opt.Mode.String()
		if opt.Mode == Approx && opt.Alpha == 0 {
			name += "-defaults"
		} else if opt.Mode == Approx {
			name += "-alpha" + strconv.FormatFloat(opt.Alpha, 'g', -1, 64) + "-cut" + strconv.FormatFloat(opt.QueryCut, 'g', -1, 64)
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := s.Search(queries[i%len(queries)].Vector, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
