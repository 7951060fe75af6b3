package bm25

import (
	"math"
	"testing"

	"github.com/splade-go/splade/bm25/analysis"
	"github.com/splade-go/splade/sparse"
)

// TestVectorsReproduceScores checks that document vectors dotted with
// query vectors give the searcher's BM25 scores.
func TestVectorsReproduceScores(t *testing.T) {
	b := NewBuilder(analysis.English())
	docs := map[string]string{
		"a": "The quick brown fox jumps over the lazy dog",
		"b": "Foxes are quick; dogs are lazy. A fox is a fox.",
		"c": "Nothing in common here at all",
		"d": "brown dogs and brown foxes",
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := b.Add(id, docs[id]); err != nil {
			t.Fatal(err)
		}
	}
	ix := b.Build()
	vecs := map[string]sparse.Vector{}
	if err := ix.DocVectors(AnseriniParams, func(id string, v sparse.Vector) error {
		vecs[id] = v
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 4 {
		t.Fatalf("got %d vectors", len(vecs))
	}
	s, _ := ix.NewSearcher(AnseriniParams)
	for _, q := range []string{"quick fox", "brown brown dog", "lazy", "zebra"} {
		qv := ix.QueryVector(q)
		want := map[string]float64{}
		for _, r := range s.Search(q, 10) {
			want[r.DocID] = float64(r.Score)
		}
		for id, dv := range vecs {
			got := sparse.Dot(qv, dv)
			if math.Abs(got-want[id]) > 1e-5 {
				t.Errorf("query %q doc %s: dot %v, BM25 %v", q, id, got, want[id])
			}
		}
	}
}
