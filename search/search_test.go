package search

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/internal/racedetect"
	"github.com/splade-go/splade/sparse"
)

// randomCorpus makes n documents over a Zipf-like vocabulary of v terms,
// with a topic structure so that pruning has something to exploit.
func randomCorpus(n, v int, seed uint64) []sparse.Record {
	r := rand.New(rand.NewPCG(seed, 11))
	docs := make([]sparse.Record, n)
	for i := range docs {
		docs[i] = sparse.Record{ID: fmt.Sprintf("d%d", i), Vector: randomVector(r, v, 10+r.IntN(80))}
	}
	return docs
}

func randomVector(r *rand.Rand, v, l int) sparse.Vector {
	seen := map[int]bool{}
	var vec sparse.Vector
	for len(vec.Terms) < l && len(seen) < v {
		t := int(math.Pow(float64(v), r.Float64())) - 1
		if seen[t] {
			continue
		}
		seen[t] = true
		vec.Terms = append(vec.Terms, fmt.Sprintf("w%05d", t))
		// many equal weights provoke ties
		vec.Weights = append(vec.Weights, float32(math.Round(r.ExpFloat64()*8)/8+0.125))
	}
	return vec
}

func buildIndex(t testing.TB, docs []sparse.Record, opt index.BuildOptions) *index.Index {
	t.Helper()
	dir := t.TempDir()
	if _, err := index.Build(dir, docs, opt); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// bruteForce scores every document from the input vectors (f32 index:
// impacts are the weights), adding terms in the searcher's order.
func bruteForce(ix *index.Index, docs []sparse.Record, q sparse.Vector, k int) []Hit {
	qm := map[string]float32{}
	for i, t := range q.Terms {
		qm[t] += q.Weights[i]
	}
	var hits []Hit
	for i, d := range docs {
		type tw struct {
			t string
			w float32
		}
		var tws []tw
		for j, t := range d.Vector.Terms {
			tws = append(tws, tw{t, d.Vector.Weights[j]})
		}
		slices.SortFunc(tws, func(a, b tw) int {
			ta, oka := ix.Lookup(a.t)
			tb, okb := ix.Lookup(b.t)
			if !oka || !okb {
				panic("document term missing from the index")
			}
			// the score order spelt out (scoreOrder reads it from one key):
			// sparse-layout terms first, then the largest bound, then the id
			if da, db := ix.Dense(ta), ix.Dense(tb); da != db {
				if db {
					return -1
				}
				return 1
			}
			ua, ub := float64(qm[a.t])*float64(ix.MaxImpact(ta)), float64(qm[b.t])*float64(ix.MaxImpact(tb))
			if ua != ub {
				return -cmp.Compare(ua, ub)
			}
			return cmp.Compare(ta, tb)
		})
		var s float64
		for _, x := range tws {
			if w, ok := qm[x.t]; ok && w > 0 {
				s += float64(w) * float64(x.w)
			}
		}
		if s > 0 {
			hits = append(hits, Hit{Doc: uint32(i), ID: d.ID, Score: s})
		}
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return int(a.Doc) - int(b.Doc)
	})
	return hits[:min(k, len(hits))]
}

func TestExhaustiveMatchesBruteForce(t *testing.T) {
	docs := randomCorpus(2000, 800, 1)
	ix := buildIndex(t, docs, index.BuildOptions{Quantize: index.QuantF32})
	s := New(ix)
	r := rand.New(rand.NewPCG(5, 5))
	for qi := 0; qi < 30; qi++ {
		q := randomVector(r, 800, 5+r.IntN(40))
		got, err := s.Search(q, Options{K: 20, Mode: Exhaustive})
		if err != nil {
			t.Fatal(err)
		}
		want := bruteForce(ix, docs, q, 20)
		if len(got) != len(want) {
			t.Fatalf("query %d: %d hits, want %d", qi, len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID || got[i].Score != want[i].Score {
				t.Fatalf("query %d rank %d: %s %v, want %s %v", qi, i, got[i].ID, got[i].Score, want[i].ID, want[i].Score)
			}
		}
	}
}

// sameHits reports whether two result lists are identical, scores included.
func sameHits(a, b []Hit) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d hits vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return fmt.Sprintf("rank %d: %+v vs %+v", i+1, a[i], b[i])
		}
	}
	return ""
}

func TestExactModesAgree(t *testing.T) {
	docs := randomCorpus(5000, 1500, 2)
	for _, opt := range []index.BuildOptions{
		{},
		{Reorder: true, RangeSize: 32},
		{ImpactLevels: 15, Reorder: true}, // ties everywhere
		{Quantize: index.QuantF16},
		{Quantize: index.QuantF32, RangeSize: 8},
	} {
		ix := buildIndex(t, docs, opt)
		s := New(ix)
		r := rand.New(rand.NewPCG(9, 9))
		nq := 40
		if racedetect.Enabled {
			nq = 8 // the race detector slows this test ten-fold
		}
		withDense := 0 // queries whose block-max scoring has light terms
		for qi := 0; qi < nq; qi++ {
			q := randomVector(r, 1500, 1+r.IntN(50))
			if slices.ContainsFunc(q.Terms, func(term string) bool {
				t, ok := ix.Lookup(term)
				return ok && ix.Dense(t)
			}) {
				withDense++
			}
			for _, k := range []int{1, 10, 100} {
				want, err := s.Search(q, Options{K: k, Mode: Exhaustive})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range []Mode{MaxScore, BlockMax} {
					got, err := s.Search(q, Options{K: k, Mode: m})
					if err != nil {
						t.Fatal(err)
					}
					if d := sameHits(got, want); d != "" {
						t.Fatalf("%+v query %d k=%d %v differs from exhaustive: %s", opt, qi, k, m, d)
					}
				}
				// approx with alpha 1 and no query pruning is exact
				got, _ := s.Search(q, Options{K: k, Mode: Approx, Alpha: 1, QueryCut: 1})
				if d := sameHits(got, want); d != "" {
					t.Fatalf("approx alpha=1 differs: %s", d)
				}
			}
		}
		// (with 15 levels no term's maxima are laid out densely: the sparse
		// layout is smaller; the other options cover dense terms)
		if withDense < nq/4 && opt.ImpactLevels == 0 {
			t.Fatalf("%+v: only %d of %d queries have a dense term", opt, withDense, nq)
		}
	}
}

// TestStages checks that dropping a batch's ranges between terms, by what
// their bounds leave to the terms not yet scored, changes nothing in exact
// results, for several stage sizes.
func TestStages(t *testing.T) {
	docs := randomCorpus(4000, 1200, 7)
	ix := buildIndex(t, docs, index.BuildOptions{Reorder: true})
	s := New(ix)
	defer func(h int) { StageTerms = h }(StageTerms)
	r := rand.New(rand.NewPCG(3, 4))
	staged := 0 // queries with sparse and dense terms, and a stage boundary at size 2 before the first dense one
	for qi := 0; qi < 30; qi++ {
		q := randomVector(r, 1200, 4+r.IntN(50))
		sparseTerms, denseTerms := 0, 0
		for _, term := range q.Terms {
			if t, ok := ix.Lookup(term); ok && ix.Dense(t) {
				denseTerms++
			} else if ok {
				sparseTerms++
			}
		}
		if sparseTerms >= 3 && denseTerms > 0 {
			staged++
		}
		for _, k := range []int{1, 10, 100} {
			want, err := s.Search(q, Options{K: k, Mode: Exhaustive})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []int{0, 1, 2, 5, 100} {
				StageTerms = h
				got, err := s.Search(q, Options{K: k, Mode: BlockMax})
				if err != nil {
					t.Fatal(err)
				}
				if d := sameHits(got, want); d != "" {
					t.Fatalf("query %d k=%d stage terms %d: %s", qi, k, h, d)
				}
			}
		}
	}
	if staged < 15 {
		t.Fatalf("only %d of 30 queries have 3 sparse terms and a dense one", staged)
	}
}

// TestSwitchToExhaustive checks that queries Block-Max Pruning hands over
// to exhaustive search, after a few batches or from the start for large k,
// return what block-max returns without the hand-over.
func TestSwitchToExhaustive(t *testing.T) {
	docs := randomCorpus(4000, 1000, 9)
	ix := buildIndex(t, docs, index.BuildOptions{Reorder: true})
	s := New(ix)
	defer func(f, e float64, b int) { SwitchFraction, ExhaustiveK, FirstBatch = f, e, b }(SwitchFraction, ExhaustiveK, FirstBatch)
	FirstBatch = 2 // three batches: 2 + 8 + 32 ranges of 250
	ExhaustiveK = 1
	r := rand.New(rand.NewPCG(6, 1))
	before := switches.Load()
	for qi := 0; qi < 20; qi++ {
		q := randomVector(r, 1000, 5+r.IntN(40))
		for _, k := range []int{10, 40, 100} { // 40 and 100 exceed the first batch's 32 documents
			for _, m := range []Mode{BlockMax, Approx} {
				opt := Options{K: k, Mode: m, Alpha: 1, QueryCut: 1}
				SwitchFraction = 1e9
				want, err := s.Search(q, opt)
				if err != nil {
					t.Fatal(err)
				}
				SwitchFraction = 0
				got, err := s.Search(q, opt)
				if err != nil {
					t.Fatal(err)
				}
				if d := sameHits(got, want); d != "" {
					t.Fatalf("query %d k=%d %v: %s", qi, k, m, d)
				}
			}
		}
	}
	if n := switches.Load() - before; n < 60 {
		t.Fatalf("%d hand-overs in 120 searches with SwitchFraction 0", n)
	}
	// k at least ExhaustiveK of the documents: exhaustive from the start
	SwitchFraction = 1e9
	for qi := 0; qi < 10; qi++ {
		q := randomVector(r, 1000, 5+r.IntN(40))
		for _, m := range []Mode{BlockMax, Approx} {
			opt := Options{K: 50, Mode: m, Alpha: 1, QueryCut: 1}
			ExhaustiveK = 1
			want, err := s.Search(q, opt)
			if err != nil {
				t.Fatal(err)
			}
			ExhaustiveK = 0.01 // 50 >= 40 documents
			before := switches.Load()
			got, err := s.Search(q, opt)
			if err != nil {
				t.Fatal(err)
			}
			if switches.Load() != before+1 {
				t.Fatalf("query %d %v: k = 50 of 4000 documents not left to exhaustive search", qi, m)
			}
			if d := sameHits(got, want); d != "" {
				t.Fatalf("query %d %v: %s", qi, m, d)
			}
		}
	}
}

// TestApproxQueryCutAndBudget checks that query-term pruning and the range
// budget lose recall monotonically, never invent documents, and return the
// exact score of every document they do return.
func TestApproxQueryCutAndBudget(t *testing.T) {
	docs := randomCorpus(3000, 800, 5)
	ix := buildIndex(t, docs, index.BuildOptions{Reorder: true})
	s := New(ix)
	r := rand.New(rand.NewPCG(2, 9))
	var queries []sparse.Record
	for i := 0; i < 30; i++ {
		queries = append(queries, sparse.Record{ID: fmt.Sprint(i), Vector: randomVector(r, 800, 25)})
	}
	exact, err := s.SearchBatch(queries, Options{K: 10, Mode: Exhaustive}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.SearchBatch(queries, Options{K: ix.NumDocs(), Mode: Exhaustive}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts []Options // in order of non-increasing recall
	}{
		{"query cut", []Options{{QueryCut: 1}, {QueryCut: 0.7}, {QueryCut: 0.4}, {QueryCut: 0.1}}},
		{"max ranges", []Options{{QueryCut: 1}, {QueryCut: 1, MaxRanges: 20}, {QueryCut: 1, MaxRanges: 3}, {QueryCut: 1, MaxRanges: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := 1.0
			for i, opt := range tc.opts {
				opt.K, opt.Mode, opt.Alpha = 10, Approx, 1
				got, err := s.SearchBatch(queries, opt, 2, nil)
				if err != nil {
					t.Fatal(err)
				}
				rec := Recall(got, exact)
				if i == 0 && rec != 1 {
					t.Fatalf("%+v: recall %v, want 1", opt, rec)
				}
				if rec > prev+1e-12 {
					t.Fatalf("%+v: recall rose from %v to %v", opt, prev, rec)
				}
				prev = rec
				for qi, hits := range got {
					score := map[uint32]float64{}
					for _, h := range all[qi] {
						score[h.Doc] = h.Score
					}
					for _, h := range hits {
						if want, ok := score[h.Doc]; !ok || want != h.Score {
							t.Fatalf("%+v query %d: doc %d score %v, exhaustive %v (found %v)", opt, qi, h.Doc, h.Score, want, ok)
						}
					}
					if opt.MaxRanges == 1 && len(hits) > 0 {
						rs := uint32(ix.Meta.RangeSize)
						for _, h := range hits {
							if h.Doc/rs != hits[0].Doc/rs {
								t.Fatalf("one-range budget returned documents of two ranges")
							}
						}
					}
				}
			}
			if prev == 1 {
				t.Fatalf("the most aggressive setting kept recall 1: the knob has no effect on this corpus")
			}
		})
	}
}

func TestApproxRecallDecreasesWithAlpha(t *testing.T) {
	docs := randomCorpus(5000, 1500, 3)
	ix := buildIndex(t, docs, index.BuildOptions{Reorder: true})
	s := New(ix)
	r := rand.New(rand.NewPCG(1, 3))
	var queries []sparse.Record
	for i := 0; i < 50; i++ {
		queries = append(queries, sparse.Record{ID: fmt.Sprint(i), Vector: randomVector(r, 1500, 20)})
	}
	exact, err := s.SearchBatch(queries, Options{K: 10, Mode: Exhaustive}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	prev := 1.0
	for _, alpha := range []float64{1, 0.8, 0.5, 0.2} {
		got, err := s.SearchBatch(queries, Options{K: 10, Mode: Approx, Alpha: alpha, QueryCut: 1}, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := Recall(got, exact)
		if alpha == 1 && rec != 1 {
			t.Fatalf("alpha 1 recall %v", rec)
		}
		if rec > prev+1e-12 {
			t.Fatalf("recall rose from %v to %v at alpha %v", prev, rec, alpha)
		}
		for qi := range got {
			for i := 1; i < len(got[qi]); i++ {
				if got[qi][i].Score > got[qi][i-1].Score {
					t.Fatal("approx hits not sorted")
				}
			}
		}
		prev = rec
	}
}

func TestQueryHandling(t *testing.T) {
	docs := randomCorpus(500, 300, 4)
	ix := buildIndex(t, docs, index.BuildOptions{Fingerprint: "bert-base-uncased@abc"})
	s := New(ix)
	q := sparse.Vector{Terms: []string{"w00001", "w00002"}, Weights: []float32{1, 0.5}}
	base, err := s.Search(q, Options{K: 5})
	if err != nil || len(base) == 0 {
		t.Fatalf("%v %v", base, err)
	}
	for _, tc := range []struct {
		name string
		q    sparse.Vector
		opt  Options
		want string // error substring, or "" for the same hits as base
	}{
		{"unknown terms ignored", sparse.Vector{Terms: []string{"w00001", "nope", "w00002"}, Weights: []float32{1, 9, 0.5}}, Options{K: 5}, ""},
		{"zero weight ignored", sparse.Vector{Terms: []string{"w00001", "w00003", "w00002"}, Weights: []float32{1, 0, 0.5}}, Options{K: 5}, ""},
		{"repeated term adds", sparse.Vector{Terms: []string{"w00001", "w00002", "w00002"}, Weights: []float32{1, 0.25, 0.25}}, Options{K: 5}, ""},
		{"matching fingerprint", q, Options{K: 5, Fingerprint: "bert-base-uncased@abc"}, ""},
		{"other fingerprint", q, Options{K: 5, Fingerprint: "other"}, "fingerprint"},
		{"negative weight", sparse.Vector{Terms: []string{"w00001"}, Weights: []float32{-1}}, Options{K: 5}, "finite and >= 0"},
		{"nan weight", sparse.Vector{Terms: []string{"w00001"}, Weights: []float32{float32(math.NaN())}}, Options{K: 5}, "finite and >= 0"},
		{"k zero", q, Options{K: 0}, "k must be"},
		{"bad alpha", q, Options{K: 5, Mode: Approx, Alpha: 1.5}, "alpha"},
		{"bad query cut", q, Options{K: 5, Mode: Approx, QueryCut: -0.5}, "query cut"},
		{"query cut above 1", q, Options{K: 5, Mode: Approx, QueryCut: 1.5}, "query cut"},
		{"negative max ranges", q, Options{K: 5, Mode: Approx, MaxRanges: -1}, "max ranges"},
		{"mismatched lengths", sparse.Vector{Terms: []string{"a"}}, Options{K: 5}, "weights"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Search(tc.q, tc.opt)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := sameHits(got, base); d != "" {
				t.Fatal(d)
			}
		})
	}
	// after an error the scratch is clean: same results again
	got, _ := s.Search(q, Options{K: 5})
	if d := sameHits(got, base); d != "" {
		t.Fatal(d)
	}
	// empty query: no hits
	if got, err := s.Search(sparse.Vector{}, Options{K: 5}); err != nil || len(got) != 0 {
		t.Fatalf("%v %v", got, err)
	}
}

// TestSearchQuery: a query resolved to term ids once (Resolve) gets the
// hits of its vector in every mode; bad ids and weights are refused and
// leave the scratch clean.
func TestSearchQuery(t *testing.T) {
	docs := randomCorpus(800, 300, 7)
	ix := buildIndex(t, docs, index.BuildOptions{})
	s := New(ix)
	v := sparse.Vector{Terms: []string{"w00004", "nope", "w00009", "w00004", "w00017", "w00002"}, Weights: []float32{1, 3, 0.5, 0.25, 0, 2}}
	q, err := s.Resolve(v)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Terms) != 4 || len(q.Weights) != 4 {
		t.Fatalf("resolved %v: want the 4 known terms of non-zero weight", q)
	}
	for _, m := range []Mode{Exhaustive, MaxScore, BlockMax, Approx} {
		want, err := s.Search(v, Options{K: 10, Mode: m})
		if err != nil || len(want) != 10 {
			t.Fatalf("%v: %d hits, %v", m, len(want), err)
		}
		got, err := s.SearchQuery(q, Options{K: 10, Mode: m})
		if err != nil {
			t.Fatal(err)
		}
		if d := sameHits(got, want); d != "" {
			t.Fatalf("%v: %s", m, d)
		}
	}
	base, _ := s.SearchQuery(q, Options{K: 10})
	for _, tc := range []struct {
		name string
		q    Query
		want string
	}{
		{"id beyond the index", Query{Terms: []uint32{q.Terms[0], uint32(ix.NumTerms())}, Weights: []float32{1, 1}}, "not a term of the index"},
		{"negative weight", Query{Terms: []uint32{q.Terms[0], q.Terms[1]}, Weights: []float32{1, -2}}, "finite and >= 0"},
		{"infinite weight", Query{Terms: []uint32{q.Terms[0]}, Weights: []float32{float32(math.Inf(1))}}, "finite and >= 0"},
		{"mismatched lengths", Query{Terms: []uint32{q.Terms[0]}}, "weights"},
		{"too many terms", Query{Terms: make([]uint32, MaxQueryTerms+1), Weights: make([]float32, MaxQueryTerms+1)}, "more than"},
	} {
		if _, err := s.SearchQuery(tc.q, Options{K: 10}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if got, _ := s.SearchQuery(q, Options{K: 10}); sameHits(got, base) != "" {
		t.Fatal("hits changed after refused queries: scratch not cleared")
	}
	if _, err := s.Resolve(sparse.Vector{Terms: []string{"w00001", "w00002"}, Weights: []float32{1, float32(math.NaN())}}); err == nil || !strings.Contains(err.Error(), `"w00002"`) {
		t.Fatalf("NaN weight: error %v, want it to name the term", err)
	}
}

// TestHugeQuery: a 100k-term query (mostly unknown terms) is handled
// without blowup and agrees across modes.
func TestHugeQuery(t *testing.T) {
	docs := randomCorpus(1000, 500, 6)
	ix := buildIndex(t, docs, index.BuildOptions{})
	s := New(ix)
	var q sparse.Vector
	for i := 0; i < 100_000; i++ {
		q.Terms = append(q.Terms, fmt.Sprintf("w%05d", i))
		q.Weights = append(q.Weights, float32(1+i%7))
	}
	want, err := s.Search(q, Options{K: 10, Mode: Exhaustive})
	if err != nil || len(want) != 10 {
		t.Fatalf("%d hits, %v", len(want), err)
	}
	for _, m := range []Mode{MaxScore, BlockMax} {
		got, err := s.Search(q, Options{K: 10, Mode: m})
		if err != nil {
			t.Fatal(err)
		}
		if d := sameHits(got, want); d != "" {
			t.Fatalf("%v: %s", m, d)
		}
	}
	big := sparse.Vector{Terms: make([]string, MaxQueryTerms+1), Weights: make([]float32, MaxQueryTerms+1)}
	if _, err := s.Search(big, Options{K: 10}); err == nil {
		t.Fatal("query above MaxQueryTerms accepted")
	}
}

func TestWriteTREC(t *testing.T) {
	var b strings.Builder
	if err := WriteTREC(&b, "q1", []Hit{{ID: "d7", Score: 12.5}, {ID: "d2", Score: 3}}, "splade"); err != nil {
		t.Fatal(err)
	}
	want := "q1 Q0 d7 1 12.500000 splade\nq1 Q0 d2 2 3.000000 splade\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

// TestDropRange checks the stage test of Block-Max Pruning: exact search
// drops a range only when its best partial score plus the bound left
// misses the threshold; approximate search discounts the bound left by
// alpha but never a partial score that reaches the threshold by itself.
func TestDropRange(t *testing.T) {
	for _, tc := range []struct {
		best, rest, alpha, theta float64
		drop                     bool
	}{
		{best: 3, rest: 1, alpha: 1, theta: 4, drop: false},     // bound reaches theta exactly
		{best: 3, rest: 0.999, alpha: 1, theta: 4, drop: true},  // bound misses
		{best: 4, rest: 0, alpha: 0.5, theta: 4, drop: false},   // scored to theta: kept at any alpha
		{best: 4.1, rest: 2, alpha: 0.1, theta: 4, drop: false}, // partial score above theta
		{best: 3, rest: 2, alpha: 0.5, theta: 4, drop: false},   // 3 + 0.5 x 2 = 4
		{best: 3, rest: 2, alpha: 0.4, theta: 4, drop: true},    // 3 + 0.4 x 2 < 4
		{best: 0, rest: 10, alpha: 0.3, theta: 4, drop: true},   // only a discounted bound
	} {
		if got := dropRange(tc.best, tc.rest, tc.alpha, tc.theta); got != tc.drop {
			t.Errorf("dropRange(best %v, rest %v, alpha %v, theta %v) = %v, want %v", tc.best, tc.rest, tc.alpha, tc.theta, got, tc.drop)
		}
	}
}

// TestApproxFindsClearWinners checks what alpha guarantees when every
// query term is scored (QueryCut 1, no range budget): a document whose
// exact score is at least 1/alpha times the exact k-th score is returned,
// since alpha times its range bound, and its best partial score plus alpha
// times the bound left, reach any threshold the search can hold.
func TestApproxFindsClearWinners(t *testing.T) {
	docs := randomCorpus(5000, 1500, 5)
	ix := buildIndex(t, docs, index.BuildOptions{Reorder: true})
	s := New(ix)
	r := rand.New(rand.NewPCG(2, 5))
	const k = 10
	checked := 0
	for qi := 0; qi < 60; qi++ {
		q := randomVector(r, 1500, 20)
		exact, err := s.Search(q, Options{K: 100, Mode: Exhaustive})
		if err != nil {
			t.Fatal(err)
		}
		if len(exact) < k {
			continue
		}
		kth := exact[k-1].Score
		for _, alpha := range []float64{0.9, 0.7, 0.5} {
			got, err := s.Search(q, Options{K: k, Mode: Approx, Alpha: alpha, QueryCut: 1})
			if err != nil {
				t.Fatal(err)
			}
			found := map[string]bool{}
			for _, h := range got {
				found[h.ID] = true
			}
			for _, h := range exact[:k] {
				if h.Score*alpha >= kth*(1+1e-9) {
					checked++
					if !found[h.ID] {
						t.Fatalf("query %d alpha %v: document %s scores %v >= k-th %v / alpha but was not returned", qi, alpha, h.ID, h.Score, kth)
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d documents cleared k-th / alpha: the corpus does not exercise the guarantee", checked)
	}
}
