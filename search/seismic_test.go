package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/sparse"
)

// TestSeismicExactSettings: with every posting kept, whole summaries (then
// upper bounds of their blocks' scores), every query term and heap factor
// 1, Seismic search must return exhaustive search's hits, scores included.
func TestSeismicExactSettings(t *testing.T) {
	docs := randomCorpus(5000, 1500, 4)
	// 15 impact levels: many equal estimates and scores
	ix15 := buildIndex(t, docs, index.BuildOptions{Reorder: true, ImpactLevels: 15})
	ix := buildIndex(t, docs, index.BuildOptions{Reorder: true})
	s := New(ix)
	q0 := randomVector(rand.New(rand.NewPCG(1, 1)), 1500, 10)
	if _, err := s.Search(q0, Options{K: 10, Mode: Seismic}); err == nil || !strings.Contains(err.Error(), "--seismic") {
		t.Fatalf("seismic search without the structure: %v", err)
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, ix := range []*index.Index{ix15, ix} {
		if _, err := ix.WriteSeismic(index.SeismicOptions{Lambda: ix.NumDocs(), BlockSize: 8, SummaryMass: 1}); err != nil {
			t.Fatal(err)
		}
		s := New(ix)
		for qi := 0; qi < 40; qi++ {
			q := randomVector(r, 1500, 1+r.IntN(50))
			for _, k := range []int{1, 10, 100} {
				if d := exactSeismicDiff(t, s, q, k); d != "" {
					t.Fatalf("%d impact levels, query %d k=%d: seismic differs from exhaustive: %s", ix.ImpactLevels(), qi, k, d)
				}
			}
		}
	}
	// long queries: up to 255 terms exact scores keep a term's rank in a
	// byte, from 256 on they take the general path
	for _, n := range []int{254, 255, 256, 257, 400} {
		var q sparse.Vector
		for _, i := range r.Perm(ix.NumTerms())[:n] {
			q.Terms = append(q.Terms, ix.Term(uint32(i)))
			q.Weights = append(q.Weights, float32(1+r.IntN(16))/4)
		}
		if d := exactSeismicDiff(t, s, q, 10); d != "" {
			t.Fatalf("query of %d terms: seismic differs from exhaustive: %s", n, d)
		}
	}
}

// exactSeismicDiff compares Seismic search at exact settings (every query
// term, heap factor 1) with exhaustive search for q at k: "" when equal.
func exactSeismicDiff(t *testing.T, s *Searcher, q sparse.Vector, k int) string {
	t.Helper()
	want, err := s.Search(q, Options{K: k, Mode: Exhaustive})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Search(q, Options{K: k, Mode: Seismic, QueryCut: 1, HeapFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	return sameHits(got, want)
}

// TestSeismicEstimateTie: two documents whose float32 estimates are equal
// while their exact scores differ in the last bits (255 + (1+2^-23) against
// 254 + 2(1+2^-23)) must come out in their exact order: the estimates only
// choose which documents are scored exactly, with a margin that keeps both.
func TestSeismicEstimateTie(t *testing.T) {
	docs := []sparse.Record{
		{ID: "a", Vector: sparse.Vector{Terms: []string{"x", "y"}, Weights: []float32{255, 1}}},
		{ID: "b", Vector: sparse.Vector{Terms: []string{"x", "y"}, Weights: []float32{254, 2}}},
		{ID: "c", Vector: sparse.Vector{Terms: []string{"x", "z"}, Weights: []float32{3, 200}}},
	}
	ix := buildIndex(t, docs, index.BuildOptions{})
	if _, err := ix.WriteSeismic(index.SeismicOptions{Lambda: ix.NumDocs(), BlockSize: 8, SummaryMass: 1}); err != nil {
		t.Fatal(err)
	}
	q := sparse.Vector{Terms: []string{"x", "y"}, Weights: []float32{1, math.Nextafter32(1, 2)}}
	s := New(ix)
	want, err := s.Search(q, Options{K: 1, Mode: Exhaustive})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 1 || ix.DocID(want[0].Doc) != "b" {
		t.Fatalf("exhaustive: %+v, want document b first", want)
	}
	qw := make([]float32, ix.NumTerms())
	for i, term := range q.Terms {
		id, _ := ix.Lookup(term)
		qw[id] = q.Weights[i]
	}
	fwd := ix.ForwardIndex()
	if ea, eb := fwd.DocScore(0, qw), fwd.DocScore(1, qw); ea != eb || ix.DocID(0) != "a" {
		t.Fatalf("the test needs a (doc 0) and b estimated alike: %v, %v", ea, eb)
	}
	for _, k := range []int{1, 2} {
		if d := exactSeismicDiff(t, s, q, k); d != "" {
			t.Fatalf("k=%d: seismic differs from exhaustive: %s", k, d)
		}
	}
}

// TestSeismicApproximate: with pruned postings and summaries, every hit
// still carries its exact score, hits come best first, and recall falls
// as the heap factor rises.
func TestSeismicApproximate(t *testing.T) {
	docs := randomCorpus(5000, 1500, 5)
	ix := buildIndex(t, docs, index.BuildOptions{Reorder: true})
	if _, err := ix.WriteSeismic(index.SeismicOptions{Lambda: 200, BlockSize: 16, SummaryMass: 0.3}); err != nil {
		t.Fatal(err)
	}
	s := New(ix)
	r := rand.New(rand.NewPCG(2, 5))
	var queries []sparse.Record
	for i := 0; i < 60; i++ {
		queries = append(queries, sparse.Record{ID: fmt.Sprint(i), Vector: randomVector(r, 1500, 20)})
	}
	exact, err := s.SearchBatch(queries, Options{K: 10, Mode: Exhaustive}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.SearchBatch(queries, Options{K: ix.NumDocs(), Mode: Exhaustive}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	prev := 1.0
	for _, hf := range []float64{0.5, 1, 2, 4} {
		got, err := s.SearchBatch(queries, Options{K: 10, Mode: Seismic, HeapFactor: hf, QueryCut: 1}, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		for qi, hits := range got {
			score := map[uint32]float64{}
			for _, h := range all[qi] {
				score[h.Doc] = h.Score
			}
			for i, h := range hits {
				if h.Score != score[h.Doc] {
					t.Fatalf("hf %v query %d: document %d scores %v, exhaustive %v", hf, qi, h.Doc, h.Score, score[h.Doc])
				}
				if i > 0 && h.Score > hits[i-1].Score {
					t.Fatalf("hf %v query %d: hits not sorted", hf, qi)
				}
			}
		}
		rec := Recall(got, exact)
		t.Logf("heap factor %v: recall@10 %.4f", hf, rec)
		if rec > prev+1e-12 {
			t.Fatalf("recall rose from %v to %v at heap factor %v", prev, rec, hf)
		}
		prev = rec
	}
	if prev > 0.9 {
		t.Fatalf("heap factor 4 keeps recall %v: the knob prunes nothing", prev)
	}
}

// TestForwardFinishExact: exact block-max that finishes ranges through the
// forward index returns exhaustive search's hits, scores included, for
// several stage sizes.
func TestForwardFinishExact(t *testing.T) {
	docs := randomCorpus(5000, 1500, 6)
	ix := buildIndex(t, docs, index.BuildOptions{Reorder: true})
	if _, err := ix.WriteSeismic(index.DefaultSeismicOptions); err != nil {
		t.Fatal(err)
	}
	s := New(ix)
	if ix.ForwardIndex() == nil {
		t.Fatal("no forward index after WriteSeismic")
	}
	defer func(f bool, st int) { ForwardFinish, StageTerms = f, st }(ForwardFinish, StageTerms)
	ForwardFinish = true
	r := rand.New(rand.NewPCG(9, 11))
	for qi := 0; qi < 40; qi++ {
		q := randomVector(r, 1500, 1+r.IntN(50))
		for _, k := range []int{1, 10, 100} {
			want, err := s.Search(q, Options{K: k, Mode: Exhaustive})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range []int{1, 2, 4} {
				StageTerms = st
				got, err := s.Search(q, Options{K: k, Mode: BlockMax})
				if err != nil {
					t.Fatal(err)
				}
				if d := sameHits(got, want); d != "" {
					t.Fatalf("query %d k=%d stage %d: differs from exhaustive: %s", qi, k, st, d)
				}
			}
		}
	}
}

// TestOrderedBits: the keys Seismic sorts blocks by keep the order of
// their scores (-0 equal to 0) and give the scores back.
func TestOrderedBits(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 8))
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32}
	for i := 0; i < 1000; i++ {
		vals = append(vals, float32(r.NormFloat64()*math.Pow(10, float64(r.IntN(20)-10))))
	}
	for _, a := range vals {
		if back := fromOrderedBits(orderedBits(a)); back != a {
			t.Fatalf("%g came back as %g", a, back)
		}
		for _, b := range vals[:50] {
			ka, kb := orderedBits(a), orderedBits(b)
			if (a < b) != (ka < kb) || (a == b) != (ka == kb) {
				t.Fatalf("%g, %g: keys %#x, %#x out of order", a, b, ka, kb)
			}
		}
	}
}

// TestKeyHeap: the heap yields the keys in increasing order, as a sort
// does.
func TestKeyHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := 0; n < 300; n += 1 + n/4 {
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = r.Uint64N(uint64(n/2 + 1)) // duplicates too
		}
		want := slices.Sorted(slices.Values(keys))
		h := keyHeap(keys)
		h.init()
		var got []uint64
		for len(h) > 0 {
			var k uint64
			h, k = h.pop()
			got = append(got, k)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: popped %v, want %v", n, got, want)
		}
	}
}

// TestSeismicNeighbors: BuildNeighbors with exhaustive search finds every
// document's exact nearest neighbours (largest inner product, ties by
// id, itself excluded); a graph keeps exact settings exact, and at
// pruning settings only adds documents, so no query's recall falls and
// some rise.
func TestSeismicNeighbors(t *testing.T) {
	docs := randomCorpus(1500, 600, 12)
	ix := buildIndex(t, docs, index.BuildOptions{Reorder: true})
	s := New(ix)
	if _, err := s.BuildNeighbors(3, Options{Mode: Seismic}, 2, nil); err == nil {
		t.Fatal("neighbours without a Seismic structure: no error")
	}
	sm, err := ix.WriteSeismic(index.SeismicOptions{Lambda: 60, BlockSize: 8, SummaryMass: 0.4})
	if err != nil {
		t.Fatal(err)
	}
	const k = 6
	done := 0
	nbs, err := s.BuildNeighbors(k, Options{Mode: Exhaustive}, 1, func() { done++ })
	if err != nil {
		t.Fatal(err)
	}
	nd := ix.NumDocs()
	if done != nd || len(nbs) != nd*k {
		t.Fatalf("%d progress calls, %d ids, want %d and %d", done, len(nbs), nd, nd*k)
	}
	// brute force over the forward index
	dotOf := func(a, b uint32) float64 {
		ta, ia := sm.Doc(a)
		tb, ib := sm.Doc(b)
		var s float64
		for i, j := 0, 0; i < len(ta) && j < len(tb); {
			switch {
			case ta[i] < tb[j]:
				i++
			case ta[i] > tb[j]:
				j++
			default:
				s += float64(ia[i]) * float64(ib[j])
				i, j = i+1, j+1
			}
		}
		return s
	}
	for d := uint32(0); d < uint32(nd); d += 7 {
		var all []entry
		for e := uint32(0); e < uint32(nd); e++ {
			if sc := dotOf(d, e); e != d && sc > 0 {
				all = append(all, entry{sc, e})
			}
		}
		slicesSortFunc(all)
		for j, got := range nbs[int(d)*k : int(d+1)*k] {
			if j < len(all) && got != all[j].doc && dotOf(d, got) != all[j].score {
				t.Fatalf("document %d neighbour %d: %d (dot %v), want %d (dot %v)", d, j, got, dotOf(d, got), all[j].doc, all[j].score)
			}
			if j >= len(all) && got != d {
				t.Fatalf("document %d neighbour %d: %d, want the padding %d", d, j, got, d)
			}
		}
	}
	g, err := sm.WithNeighbors(nbs, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.ServeSeismic(g); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(12, 13))
	var queries []sparse.Record
	for i := 0; i < 80; i++ {
		queries = append(queries, sparse.Record{ID: fmt.Sprint(i), Vector: randomVector(r, 600, 1+r.IntN(30))})
	}
	exact, err := s.SearchBatch(queries, Options{K: 10, Mode: Exhaustive}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	without, err := s.SearchBatch(queries, Options{K: 10, Mode: Seismic, HeapFactor: 1.5, QueryCut: 0.4, Neighbors: -1}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	with, err := s.SearchBatch(queries, Options{K: 10, Mode: Seismic, HeapFactor: 1.5, QueryCut: 0.4}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for qi := range queries {
		rw := Recall(with[qi:qi+1], exact[qi:qi+1])
		ro := Recall(without[qi:qi+1], exact[qi:qi+1])
		if rw < ro {
			t.Fatalf("query %d: recall %v with the graph, %v without", qi, rw, ro)
		}
	}
	rw, ro := Recall(with, exact), Recall(without, exact)
	t.Logf("recall@10 %.4f with the graph, %.4f without", rw, ro)
	if rw <= ro {
		t.Fatalf("the graph adds nothing: recall %v with it, %v without", rw, ro)
	}
	// exact settings (every posting, whole summaries) with the graph
	full, err := index.BuildSeismic(ix, index.SeismicOptions{Lambda: nd, BlockSize: 8, SummaryMass: 1})
	if err == nil {
		full, err = full.WithNeighbors(nbs, k)
	}
	if err == nil {
		err = ix.ServeSeismic(full)
	}
	if err != nil {
		t.Fatal(err)
	}
	for qi := 0; qi < 20; qi++ {
		if d := exactSeismicDiff(t, s, queries[qi].Vector, 10); d != "" {
			t.Fatalf("query %d: seismic with a graph at exact settings differs from exhaustive: %s", qi, d)
		}
	}
	if _, err := s.Search(queries[0].Vector, Options{K: 10, Mode: Seismic, Neighbors: -2}); err == nil {
		t.Fatal("neighbors -2 accepted")
	}
}
