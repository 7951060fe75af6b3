package bm25

import (
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/splade-go/splade/corpus"
	"github.com/splade-go/splade/eval"
	"github.com/splade-go/splade/internal/shareddata"
)

// sciFact is BEIR SciFact loaded once per test binary.
type sciFact struct {
	docs    []corpus.Doc
	queries []Query // test queries only
	qrels   eval.Qrels
}

var (
	sciFactOnce sync.Once
	sciFactData sciFact
	sciFactErr  error
)

func loadSciFact(tb testing.TB) *sciFact {
	tb.Helper()
	dir := shareddata.Require(tb, "beir/scifact")
	sciFactOnce.Do(func() {
		sciFactData, sciFactErr = readSciFact(dir)
	})
	if sciFactErr != nil {
		tb.Fatal(sciFactErr)
	}
	return &sciFactData
}

func readSciFact(dir string) (sciFact, error) {
	var sf sciFact
	var err error
	if sf.qrels, err = eval.ReadQrels(filepath.Join(dir, "qrels", "test.tsv")); err != nil {
		return sf, err
	}
	readAll := func(path string, keep func(corpus.Doc)) error {
		r, err := corpus.Open(path)
		if err != nil {
			return err
		}
		defer r.Close()
		for {
			d, err := r.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			keep(d)
		}
	}
	if err := readAll(filepath.Join(dir, "corpus.jsonl.gz"), func(d corpus.Doc) { sf.docs = append(sf.docs, d) }); err != nil {
		return sf, err
	}
	err = readAll(filepath.Join(dir, "queries.jsonl"), func(d corpus.Doc) {
		if _, ok := sf.qrels[d.ID]; ok {
			sf.queries = append(sf.queries, Query{ID: d.ID, Text: d.Contents()})
		}
	})
	return sf, err
}

func (sf *sciFact) index(tb testing.TB) *Index {
	b := NewBuilder(nil)
	for _, d := range sf.docs {
		if err := b.Add(d.ID, d.Contents()); err != nil {
			tb.Fatal(err)
		}
	}
	return b.Build()
}

// TestSciFact reproduces Anserini's BM25 "flat" regression on BEIR SciFact
// (test split): nDCG@10 0.6789, R@100 0.9253.
func TestSciFact(t *testing.T) {
	sf := loadSciFact(t)
	if len(sf.docs) != 5183 || len(sf.queries) != 300 {
		t.Fatalf("%d documents and %d test queries, want 5183 and 300", len(sf.docs), len(sf.queries))
	}
	start := time.Now()
	ix := sf.index(t)
	indexed := time.Since(start)
	start = time.Now()
	res, err := ix.SearchAll(sf.queries, Options{Params: AnseriniParams, K: 1000, RemoveQueryID: true})
	if err != nil {
		t.Fatal(err)
	}
	searched := time.Since(start)
	evaluate := func(adjust bool) *eval.Report {
		run := make(eval.Run, len(res))
		for i, q := range sf.queries {
			rs := append([]Result(nil), res[i]...)
			if adjust {
				AdjustTies(rs)
			}
			for _, r := range rs {
				run[q.ID] = append(run[q.ID], eval.Result{DocID: r.DocID, Score: float64(r.Score)})
			}
		}
		rep, err := eval.Evaluate(sf.qrels, run, []string{"ndcg_cut_10", "recall_100"})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	exact, anserini := evaluate(false), evaluate(true)
	t.Logf("SciFact BM25: %d docs, %d terms, avgdl %.2f; indexed in %v, 300 queries in %v",
		ix.NumDocs(), ix.NumTerms(), ix.AvgDocLength(), indexed.Round(time.Millisecond), searched.Round(time.Millisecond))
	t.Logf("exact scores:     nDCG@10 %.4f  R@100 %.4f", exact.Mean["ndcg_cut_10"], exact.Mean["recall_100"])
	t.Logf("Anserini rounded: nDCG@10 %.4f  R@100 %.4f", anserini.Mean["ndcg_cut_10"], anserini.Mean["recall_100"])
	for _, m := range []struct {
		name      string
		want, tol float64
	}{{"ndcg_cut_10", 0.6789, 0.005}, {"recall_100", 0.9253, 0.01}} {
		for _, rep := range []*eval.Report{exact, anserini} {
			if got := rep.Mean[m.name]; got < m.want-m.tol || got > m.want+m.tol {
				t.Errorf("%s = %.4f, want %.4f ± %v (Anserini regression)", m.name, got, m.want, m.tol)
			}
		}
	}
}

func BenchmarkIndexSciFact(b *testing.B) {
	sf := loadSciFact(b)
	b.ResetTimer()
	for b.Loop() {
		sf.index(b)
	}
	b.ReportMetric(float64(len(sf.docs)*b.N)/b.Elapsed().Seconds(), "docs/s")
}

func BenchmarkSearchSciFact(b *testing.B) {
	sf := loadSciFact(b)
	ix := sf.index(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ix.SearchAll(sf.queries, Options{Params: AnseriniParams, K: 1000}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(sf.queries)*b.N)/b.Elapsed().Seconds(), "queries/s")
}
