package synth

import (
	"bufio"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/splade-go/splade/eval"
	"github.com/splade-go/splade/internal/shareddata"
	"github.com/splade-go/splade/sparse"
)

// sampleStats generates a sample and returns the statistics eval reports
// for real encodings, plus all query weights.
func sampleStats(t testing.TB, g *Generator, docs, queries int) (*eval.Stats, []float64, []float64) {
	t.Helper()
	d, q := eval.NewTermStats(), eval.NewTermStats()
	var docW, qW []float64
	for i := range docs {
		v := g.Doc(i).Vector
		d.Add(v)
		for _, w := range v.Weights {
			docW = append(docW, float64(w))
		}
	}
	for i := range queries {
		v := g.Query(i).Vector
		q.Add(v)
		for _, w := range v.Weights {
			qW = append(qW, float64(w))
		}
	}
	s, err := eval.ComputeStats(d, q)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(docW)
	slices.Sort(qW)
	return s, docW, qW
}

func quantile(sorted []float64, p float64) float64 { return sorted[int(p*float64(len(sorted)-1))] }

func TestCalibration(t *testing.T) {
	g := New(Options{Docs: 20000, Queries: 500, Seed: 1})
	s, docW, qW := sampleStats(t, g, 5000, 500)
	t.Logf("docs: nnz mean %.1f min %d max %d; queries: nnz mean %.1f min %d max %d; FLOPS %.2f",
		s.Docs.MeanNNZ(), s.Docs.MinNNZ, s.Docs.MaxNNZ, s.Queries.MeanNNZ(), s.Queries.MinNNZ, s.Queries.MaxNNZ, s.FLOPS)
	t.Logf("doc weights: median %.2f p90 %.2f max %.2f; query weights: median %.2f p90 %.2f p99 %.2f",
		quantile(docW, 0.5), quantile(docW, 0.9), docW[len(docW)-1], quantile(qW, 0.5), quantile(qW, 0.9), quantile(qW, 0.99))
	// Fraction of documents holding the most common term (the head).
	var top float64
	for _, p := range s.Docs.Fractions() {
		top = max(top, p)
	}
	checks := []struct {
		name     string
		got      float64
		low, top float64
	}{
		{"doc nnz mean", s.Docs.MeanNNZ(), 120, 145},
		{"doc nnz min (short passages)", float64(s.Docs.MinNNZ), 8, 45},
		{"doc nnz max (long passages)", float64(s.Docs.MaxNNZ), 350, 700},
		{"query nnz mean (real SPLADE++ ED: 43.9)", s.Queries.MeanNNZ(), 40, 48},
		{"FLOPS", s.FLOPS, 1, 5},
		{"doc fraction of the commonest term", top, 0.7, 1},
		{"doc weight median (most small)", quantile(docW, 0.5), 0.15, 0.7},
		{"doc weight max", docW[len(docW)-1], 2, maxWeight},
		{"query weight median (real: 0.27)", quantile(qW, 0.5), 0.2, 0.36},
		{"query weight p90 (real: 1.56)", quantile(qW, 0.9), 1.2, 1.9},
		{"query weight p99 (real: 2.87)", quantile(qW, 0.99), 2.3, maxWeight},
	}
	for _, c := range checks {
		if c.got < c.low || c.got > c.top {
			t.Errorf("%s = %.3f, want in [%g, %g]", c.name, c.got, c.low, c.top)
		}
	}
	if docW[0] < float64(float32(minWeight)) || qW[0] < float64(float32(minWeight)) {
		t.Errorf("smallest weights %v %v are below %v", docW[0], qW[0], minWeight)
	}
}

// The query side is calibrated to the real SPLADE++ EnsembleDistil
// encodings of the MS MARCO dev queries (each term repeated weight x 1000
// times there). The first 1000 queries keep the test fast.
func TestQueriesMatchRealEncodings(t *testing.T) {
	path := filepath.Join(shareddata.Require(t, "splade-query-encodings"), "topics.msmarco-passage.dev-subset.splade-pp-ed.tsv.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<24)
	var nnz int
	var realW []float64
	queries := 0
	for queries < 1000 && sc.Scan() {
		_, toks, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s: line without a tab", path)
		}
		counts := map[string]int{}
		for len(toks) > 0 {
			var tok string
			tok, toks, _ = strings.Cut(toks, " ")
			counts[tok]++
		}
		for _, c := range counts {
			realW = append(realW, float64(c)/1000)
		}
		nnz += len(counts)
		queries++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(realW)
	realMean := float64(nnz) / float64(queries)

	g := New(Options{Docs: 10000, Queries: queries, Seed: 7})
	s, _, synthW := sampleStats(t, g, 1, 2000)
	if d := s.Queries.MeanNNZ() / realMean; d < 0.9 || d > 1.1 {
		t.Errorf("query nnz mean %.1f vs real %.1f: off by more than 10%%", s.Queries.MeanNNZ(), realMean)
	}
	for _, p := range []float64{0.25, 0.5, 0.75, 0.9, 0.99} {
		sy, re := quantile(synthW, p), quantile(realW, p)
		t.Logf("weight quantile %.2f: synthetic %.3f real %.3f", p, sy, re)
		if sy < re/1.5 || sy > re*1.5 {
			t.Errorf("weight quantile %.2f: synthetic %.3f vs real %.3f, off by more than 1.5x", p, sy, re)
		}
	}
}

func TestDeterministicAndConcurrent(t *testing.T) {
	o := Options{Docs: 1000, Queries: 100, Seed: 42}
	g1, g2 := New(o), New(o)
	// Sequential on g1, concurrent and in reverse order on g2.
	want := make([]sparse.Record, 200)
	for i := range 100 {
		want[i] = g1.Doc(i)
		want[100+i] = g1.Query(i)
	}
	got := make([]sparse.Record, 200)
	var wg sync.WaitGroup
	for i := 99; i >= 0; i-- {
		wg.Go(func() { got[i] = g2.Doc(i); got[100+i] = g2.Query(i) })
	}
	wg.Wait()
	if !reflect.DeepEqual(got, want) {
		t.Fatal("same options and index gave different vectors")
	}
	other := New(Options{Docs: 1000, Queries: 100, Seed: 43}).Doc(0)
	if reflect.DeepEqual(other, want[0]) {
		t.Error("seeds 42 and 43 gave the same document 0")
	}
}

func TestVectorsWellFormed(t *testing.T) {
	g := New(Options{Docs: 500, Seed: 3})
	for i := range 500 {
		for _, rec := range []sparse.Record{g.Doc(i), g.Query(i)} {
			v := rec.Vector
			if len(v.Terms) == 0 || len(v.Terms) != len(v.Weights) {
				t.Fatalf("%s: %d terms, %d weights", rec.ID, len(v.Terms), len(v.Weights))
			}
			if !slices.IsSorted(v.Terms) {
				t.Fatalf("%s: terms not sorted", rec.ID)
			}
			for j, w := range v.Weights {
				if j > 0 && v.Terms[j] == v.Terms[j-1] {
					t.Fatalf("%s: term %s twice", rec.ID, v.Terms[j])
				}
				if !(w >= minWeight && w <= maxWeight) {
					t.Fatalf("%s: weight %v out of range", rec.ID, w)
				}
			}
		}
	}
}

// Queries are about their relevant document: exhaustive dot-product search
// over a small collection should rank it first for most queries.
func TestRelevantDocRanksHigh(t *testing.T) {
	const docs, queries = 2000, 100
	g := New(Options{Docs: docs, Queries: queries, Seed: 5, Topics: 20}) // ~100 documents per topic compete
	all := make([]sparse.Vector, docs)
	for i := range all {
		all[i] = g.Doc(i).Vector
	}
	run := eval.Run{}
	qrels := eval.Qrels{}
	for qi := range queries {
		q := g.Query(qi)
		res := make([]eval.Result, docs)
		for d, v := range all {
			res[d] = eval.Result{DocID: DocID(d), Score: sparse.Dot(q.Vector, v)}
		}
		run[q.ID] = res
		qrels[q.ID] = map[string]int{DocID(g.RelevantDoc(qi)): 1}
	}
	rep, err := eval.Evaluate(qrels, run, []string{"mrr_10", "recall_100"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exact search: MRR@10 %.3f, recall@100 %.3f", rep.Mean["mrr_10"], rep.Mean["recall_100"])
	if rep.Mean["mrr_10"] < 0.5 || rep.Mean["recall_100"] < 0.9 {
		t.Errorf("relevant documents rank too low: MRR@10 %.3f, recall@100 %.3f", rep.Mean["mrr_10"], rep.Mean["recall_100"])
	}
	if rep.Mean["mrr_10"] > 0.99 {
		t.Errorf("MRR@10 %.3f: the task is trivial, queries copy their document", rep.Mean["mrr_10"])
	}
}

func TestDefaultsAndSmallVocab(t *testing.T) {
	o := New(Options{}).Options()
	if o.Vocab != 30522 || o.DocNNZ != 130 || o.QueryNNZ != 44 || o.Topics != 2000 {
		t.Errorf("defaults: %+v", o)
	}
	if got := New(Options{}).RelevantDoc(0); got != -1 {
		t.Errorf("RelevantDoc without documents = %d, want -1", got)
	}
	if q := New(Options{}).Query(3); len(q.Vector.Terms) == 0 {
		t.Error("query without documents is empty")
	}
	g := New(Options{Vocab: 10, Topics: 3, Docs: 5})
	if n := len(g.Vocabulary()); n < 10 {
		t.Errorf("vocabulary of %d terms", n)
	}
	g.Doc(1)
	g.Query(1)
}

func BenchmarkDoc(b *testing.B) {
	g := New(Options{Docs: 1_000_000, Seed: 1})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g.Doc(i)
	}
}

func BenchmarkQuery(b *testing.B) {
	g := New(Options{Docs: 1_000_000, Seed: 1})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g.Query(i)
	}
}
