package search

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/sparse"
)

// passageCorpus makes documents of 1 to 6 passages (the passages of a
// document interleaved with the next document's), plus one document "hot"
// of 200 passages that all carry the term hotTerm heavily, so that a
// query on it fills the first k x (mean passages per document) passages
// with one document and the searcher must deepen.
func passageCorpus(n, v int, seed uint64) []sparse.Record {
	r := rand.New(rand.NewPCG(seed, 3))
	var recs []sparse.Record
	for d := 0; len(recs) < n; d += 2 {
		a, b := 1+r.IntN(6), 1+r.IntN(6)
		for i := 0; i < max(a, b); i++ {
			for _, x := range []struct{ doc, np int }{{d, a}, {d + 1, b}} {
				if i < x.np {
					doc := fmt.Sprintf("doc%d", x.doc)
					recs = append(recs, sparse.Record{ID: fmt.Sprintf("%s#%d", doc, i), Doc: doc, Vector: randomVector(r, v, 5+r.IntN(40))})
				}
			}
		}
	}
	for i := 0; i < 200; i++ {
		vec := randomVector(r, v, 5+r.IntN(20))
		vec.Terms = append(vec.Terms, hotTerm)
		vec.Weights = append(vec.Weights, 50+float32(i%7))
		recs = append(recs, sparse.Record{ID: fmt.Sprintf("hot#%d", i), Doc: "hot", Vector: vec})
	}
	return recs
}

const hotTerm = "zzhot"

// bruteMaxP scores every passage from the input vectors (exact for an f32
// index without reordering, where internal ids are input positions) and
// ranks the documents by their best passage, ties by that passage's
// position: the definition the searcher must meet. k < 0 means all.
func bruteMaxP(ix *index.Index, recs []sparse.Record, q sparse.Vector, k int) []Hit {
	var out []Hit
	seen := map[string]bool{}
	for _, h := range bruteForce(ix, recs, q, len(recs)) {
		rec := recs[h.Doc]
		if seen[rec.Doc] {
			continue
		}
		seen[rec.Doc] = true
		out = append(out, Hit{Doc: h.Doc, ID: rec.Doc, Passage: rec.ID, Score: h.Score})
	}
	if k >= 0 {
		out = out[:min(k, len(out))]
	}
	return out
}

func TestMaxPMatchesBruteForce(t *testing.T) {
	recs := passageCorpus(4000, 1200, 1)
	exact := buildIndex(t, recs, index.BuildOptions{Quantize: index.QuantF32})
	if !exact.HasPassages() || exact.NumDocs() != len(recs) {
		t.Fatalf("not a passage index of %d passages", len(recs))
	}
	reordered := buildIndex(t, recs, index.BuildOptions{Reorder: true, RangeSize: 8})
	r := rand.New(rand.NewPCG(4, 4))
	s := New(reordered)
	for qi := 0; qi < 40; qi++ {
		q := randomVector(r, 1200, 1+r.IntN(40))
		if qi%4 == 0 {
			q.Terms = append(q.Terms, hotTerm)
			q.Weights = append(q.Weights, 1)
		}
		brute := bruteMaxP(exact, recs, q, -1)
		all, err := s.Search(q, Options{K: reordered.NumDocs(), Mode: Exhaustive, Passages: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{1, 10, 100, 5000} {
			want := brute[:min(k, len(brute))]
			for _, m := range []Mode{Exhaustive, MaxScore, BlockMax} {
				got, err := New(exact).Search(q, Options{K: k, Mode: m})
				if err != nil {
					t.Fatal(err)
				}
				if d := sameDocHits(got, want); d != "" {
					t.Fatalf("query %d k=%d %v: %s", qi, k, m, d)
				}
			}
			// On a u8, reordered index the oracle is the exhaustive passage
			// ranking, read off by first appearance of each document.
			want = s.Documents(all, k)
			for _, m := range []Mode{Exhaustive, MaxScore, BlockMax} {
				got, err := s.Search(q, Options{K: k, Mode: m})
				if err != nil {
					t.Fatal(err)
				}
				if d := sameDocHits(got, want); d != "" {
					t.Fatalf("reordered: query %d k=%d %v: %s", qi, k, m, d)
				}
			}
		}
	}
}

// TestMaxPDeepens: the first k x 2 passages of a query on the hot term all
// belong to one document, and the searcher still returns k documents.
func TestMaxPDeepens(t *testing.T) {
	recs := passageCorpus(2000, 600, 2)
	ix := buildIndex(t, recs, index.BuildOptions{Quantize: index.QuantF32})
	s := New(ix)
	q := sparse.Vector{Terms: []string{hotTerm, "w00001", "w00002", "w00003"}, Weights: []float32{1, 0.5, 0.5, 0.5}}
	k := 20
	per := (ix.NumDocs() + ix.NumDocuments() - 1) / ix.NumDocuments()
	top, err := s.Search(q, Options{K: k * per, Mode: BlockMax, Passages: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range top {
		if ix.DocumentID(ix.DocumentOf(h.Doc)) != "hot" || h.Passage != "" {
			t.Fatalf("setup: passage %q (passage field %q) is not a plain hot passage", h.ID, h.Passage)
		}
	}
	for _, m := range []Mode{Exhaustive, MaxScore, BlockMax, Approx} {
		got, err := s.Search(q, Options{K: k, Mode: m, Alpha: 1, QueryCut: 1})
		if err != nil {
			t.Fatal(err)
		}
		if d := sameDocHits(got, bruteMaxP(ix, recs, q, k)); d != "" {
			t.Fatalf("%v: %s", m, d)
		}
	}
	// SearchBatch and Measure take the same path.
	batch, err := s.SearchBatch([]sparse.Record{{ID: "q", Vector: q}}, Options{K: k, Mode: BlockMax}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameDocHits(batch[0], bruteMaxP(ix, recs, q, k)); d != "" {
		t.Fatalf("SearchBatch: %s", d)
	}
	tm, err := s.Measure([]sparse.Record{{ID: "q", Vector: q}}, Options{K: k, Mode: BlockMax}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameDocHits(tm.Hits[0], batch[0]); d != "" {
		t.Fatalf("Measure: %s", d)
	}
}

// sameDocHits compares document rankings: document, best passage, score.
func sameDocHits(got, want []Hit) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d documents, want %d", len(got), len(want))
	}
	ids := map[string]bool{}
	for i := range got {
		g, w := got[i], want[i]
		if g != w {
			return fmt.Sprintf("rank %d: got %+v, want %+v", i+1, g, w)
		}
		if ids[g.ID] {
			return fmt.Sprintf("document %q returned twice", g.ID)
		}
		ids[g.ID] = true
	}
	return ""
}

func TestDocumentsOnDocumentIndex(t *testing.T) {
	docs := randomCorpus(200, 100, 3)
	ix := buildIndex(t, docs, index.BuildOptions{})
	s := New(ix)
	q := randomVector(rand.New(rand.NewPCG(1, 1)), 100, 10)
	hits, err := s.Search(q, Options{K: 50, Mode: BlockMax})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Documents(hits, 10); !slices.Equal(got, hits[:10]) {
		t.Fatal("Documents changed a document ranking")
	}
	for _, h := range hits {
		if h.Passage != "" {
			t.Fatalf("passage %q on a document index", h.Passage)
		}
	}
}
