package index

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/splade-go/splade/sparse"
)

// randomDocs makes n documents over a Zipf-like vocabulary of v terms.
func randomDocs(n, v int, seed uint64) []sparse.Record {
	r := rand.New(rand.NewPCG(seed, 7))
	docs := make([]sparse.Record, n)
	for i := range docs {
		l := 1 + r.IntN(min(60, v/2))
		seen := map[int]bool{}
		var vec sparse.Vector
		for len(vec.Terms) < l {
			t := int(math.Floor(math.Pow(float64(v), r.Float64()))) - 1
			if seen[t] {
				continue
			}
			seen[t] = true
			vec.Terms = append(vec.Terms, fmt.Sprintf("t%04d", t))
			vec.Weights = append(vec.Weights, float32(r.Float64()*3))
		}
		docs[i] = sparse.Record{ID: fmt.Sprintf("doc-%d", i), Vector: vec}
	}
	return docs
}

func build(t testing.TB, dir string, docs []sparse.Record, opt BuildOptions) Stats {
	t.Helper()
	st, err := Build(dir, docs, opt)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// buildOpen builds docs into a temporary directory and opens the index,
// closed when the test ends.
func buildOpen(t testing.TB, docs []sparse.Record, opt BuildOptions) *Index {
	t.Helper()
	dir := t.TempDir()
	build(t, dir, docs, opt)
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// TestRoundTrip checks that every posting comes back with its quantized
// impact, under each quantization, with and without spilling and
// reordering.
func TestRoundTrip(t *testing.T) {
	docs := randomDocs(3000, 500, 1)
	for _, tc := range []struct {
		name string
		opt  BuildOptions
	}{
		{"u8", BuildOptions{}},
		{"u8-spill", BuildOptions{MemoryBudget: 20000}},
		{"u8-reorder-spill", BuildOptions{MemoryBudget: 50000, Reorder: true, RangeSize: 16}},
		{"u8-range4", BuildOptions{RangeSize: 4}},
		{"u8-range64-reorder", BuildOptions{RangeSize: 64, Reorder: true}},
		{"u8-31-levels-reorder-spill", BuildOptions{ImpactLevels: 31, Reorder: true, MemoryBudget: 50000}},
		{"u8-1-level", BuildOptions{ImpactLevels: 1}},
		{"u8-47-levels-range8", BuildOptions{ImpactLevels: 47, RangeSize: 8}},
		{"f16-range32", BuildOptions{Quantize: QuantF16, RangeSize: 32, Reorder: true}},
		{"f16", BuildOptions{Quantize: QuantF16}},
		{"f32-spill", BuildOptions{Quantize: QuantF32, MemoryBudget: 30000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st := build(t, dir, docs, tc.opt)
			if tc.opt.MemoryBudget > 0 && st.Runs == 0 {
				t.Fatalf("expected spilled runs")
			}
			ix, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			if ix.NumDocs() != len(docs) {
				t.Fatalf("docs = %d", ix.NumDocs())
			}
			wantLevels := 0
			if tc.opt.Quantize == QuantU8 {
				wantLevels = cmp.Or(tc.opt.ImpactLevels, 255)
				if want := st.MaxWeight / float64(wantLevels); ix.Scale() != want {
					t.Fatalf("scale = %v, want max weight / %d = %v", ix.Scale(), wantLevels, want)
				}
			}
			if ix.ImpactLevels() != wantLevels || st.ImpactLevels != wantLevels {
				t.Fatalf("impact levels: index %d, stats %d, want %d", ix.ImpactLevels(), st.ImpactLevels, wantLevels)
			}
			internal := map[string]uint32{}
			for d := 0; d < ix.NumDocs(); d++ {
				internal[ix.DocID(uint32(d))] = uint32(d)
			}
			want := map[[2]uint32]float32{} // (term, doc) -> impact units
			var nPost int64
			for _, d := range docs {
				for i, term := range d.Vector.Terms {
					tid, ok := ix.Lookup(term)
					if !ok {
						t.Fatalf("term %q missing", term)
					}
					w := d.Vector.Weights[i]
					var v float32
					switch tc.opt.Quantize {
					case QuantU8:
						v = float32(quantizeU8(w, ix.Scale(), uint8(ix.ImpactLevels())))
					case QuantF16:
						v = f16ToF32(f32ToF16(w))
					default:
						v = w
					}
					want[[2]uint32{tid, internal[d.ID]}] = v
					nPost++
				}
			}
			if st.Postings != nPost {
				t.Fatalf("postings = %d, want %d", st.Postings, nPost)
			}
			var c Cursor
			got := 0
			for tid := uint32(0); tid < uint32(ix.NumTerms()); tid++ {
				prev := int64(-1)
				for c.Open(ix, tid); c.Doc() != End; c.Next() {
					if int64(c.Doc()) <= prev {
						t.Fatalf("term %d: docs not increasing", tid)
					}
					prev = int64(c.Doc())
					w, ok := want[[2]uint32{tid, c.Doc()}]
					if !ok || w != c.Impact() {
						t.Fatalf("term %d doc %d: impact %v, want %v (present %v)", tid, c.Doc(), c.Impact(), w, ok)
					}
					got++
				}
				if c.Err() != nil {
					t.Fatal(c.Err())
				}
				// NextGEQ agrees with a linear scan
				for _, target := range []uint32{0, 5, 1000, 2999, 3000} {
					var lin Cursor
					lin.Open(ix, tid)
					for lin.Doc() < target {
						lin.Next()
					}
					c.Open(ix, tid)
					c.NextGEQ(target)
					if c.Doc() != lin.Doc() {
						t.Fatalf("term %d NextGEQ(%d) = %d, want %d", tid, target, c.Doc(), lin.Doc())
					}
				}
			}
			if got != len(want) {
				t.Fatalf("decoded %d postings, want %d", got, len(want))
			}
			checkReadPaths(t, ix, want)
			// again with every sparse term's bounds read through a bound
			// view, and with none
			density, budget := ViewDensity, ViewBudget
			for _, v := range []struct {
				density, budget float64
				views           bool
			}{{0, 1e9, true}, {2, 1e9, false}} {
				ViewDensity, ViewBudget = v.density, v.budget
				vix, err := Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				checkReadPaths(t, vix, want)
				if built := vix.viewBytes > 0; built != v.views {
					t.Errorf("ViewDensity %v: views built %v", v.density, built)
				}
				vix.Close()
			}
			ViewDensity, ViewBudget = density, budget
		})
	}
}

// checkReadPaths checks the term-at-a-time scorer, range bounds and range
// scoring against the postings in want ((term, doc) -> impact).
func checkReadPaths(t *testing.T, ix *Index, want map[[2]uint32]float32) {
	t.Helper()
	var pb PairBlock
	nd, R := ix.NumDocs(), uint32(ix.RangeSize())
	acc := make([]float64, nd)
	ub := make([]uint32, ix.NumRanges())
	byTerm := make([]map[uint32]float32, ix.NumTerms())
	for k, v := range want {
		if byTerm[k[0]] == nil {
			byTerm[k[0]] = map[uint32]float32{}
		}
		byTerm[k[0]][k[1]] = v
	}
	r := rand.New(rand.NewPCG(9, 9))
	for tid := uint32(0); tid < uint32(ix.NumTerms()); tid++ {
		w := 0.5 + r.Float64()
		clear(acc)
		if err := ix.ScoreTerm(tid, w, acc, &pb); err != nil {
			t.Fatal(err)
		}
		for d, v := range acc {
			if v != w*float64(byTerm[tid][uint32(d)]) {
				t.Fatalf("term %d doc %d: ScoreTerm %v, want %v", tid, d, v, w*float64(byTerm[tid][uint32(d)]))
			}
		}
		// bounds: W x range maximum, which covers every impact and, for
		// u8, equals the largest level of the range
		clear(ub)
		var known KnownPairs
		var memo CountMemo
		memo.Reset()
		known.SetCountMemo(&memo)
		if err := ix.AddBounds(tid, 3, ub, &pb, &known); err != nil {
			t.Fatal(err)
		}
		maxIn := make([]float32, ix.NumRanges())
		for d, v := range byTerm[tid] {
			maxIn[d/R] = max(maxIn[d/R], v)
		}
		for rg, u := range ub {
			m := float64(u) / 3 * ix.RangeScale()
			if (u == 0) != (maxIn[rg] == 0) || m < float64(maxIn[rg]) ||
				(ix.Quantization() == QuantU8 && m != float64(maxIn[rg])) {
				t.Fatalf("term %d range %d: bound %v for maximum %v", tid, rg, m, maxIn[rg])
			}
		}
		// scoring a random subset of ranges
		var ranges []uint32
		for rg := 0; rg < ix.NumRanges(); rg++ {
			if r.IntN(3) == 0 {
				ranges = append(ranges, uint32(rg))
			}
		}
		// without known pairs, with them (counts decoded and kept), again
		// (counts from the memo), without a memo, and after a memo reset
		var noMemo KnownPairs
		clear(ub)
		if err := ix.AddBounds(tid, 3, ub, &pb, &noMemo); err != nil {
			t.Fatal(err)
		}
		for pass, kp := range []*KnownPairs{nil, &known, &known, &noMemo, &noMemo, &known} {
			if pass == 5 {
				memo.Reset() // a new query: known's kept blocks are void
			}
			racc := make([]float64, len(ranges)*int(R))
			bound := make([]uint32, len(ranges))
			if err := ix.ScoreRangesBound(tid, w, 3, ranges, racc, bound, &pb, kp); err != nil {
				t.Fatal(err)
			}
			for i, rg := range ranges {
				if bound[i] != ub[rg] { // AddBounds with W = 3 filled ub
					t.Fatalf("term %d range %d: ScoreRangesBound's bound %d, AddBounds' %d", tid, rg, bound[i], ub[rg])
				}
				for j := uint32(0); j < R; j++ {
					d := rg*R + j
					if got, exp := racc[i*int(R)+int(j)], w*float64(byTerm[tid][d]); got != exp {
						t.Fatalf("term %d doc %d: ScoreRanges (known %v) %v, want %v", tid, d, kp != nil, got, exp)
					}
				}
			}
		}
	}
}

func TestAddErrors(t *testing.T) {
	for _, tc := range []struct {
		name, id string
		v        sparse.Vector
		want     string
	}{
		{"empty id", "", sparse.Vector{Terms: []string{"a"}, Weights: []float32{1}}, "empty document id"},
		{"duplicate", "d0", sparse.Vector{Terms: []string{"a"}, Weights: []float32{1}}, `duplicate document id "d0"`},
		{"negative", "x", sparse.Vector{Terms: []string{"a"}, Weights: []float32{-1}}, "weights must be finite"},
		{"nan", "x", sparse.Vector{Terms: []string{"a"}, Weights: []float32{float32(math.NaN())}}, "weights must be finite"},
		{"inf", "x", sparse.Vector{Terms: []string{"a"}, Weights: []float32{float32(math.Inf(1))}}, "weights must be finite"},
		{"repeated term", "x", sparse.Vector{Terms: []string{"a", "b", "a"}, Weights: []float32{1, 1, 1}}, `term "a" appears twice`},
		{"length mismatch", "x", sparse.Vector{Terms: []string{"a"}}, "1 terms but 0 weights"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewBuilder(t.TempDir(), BuildOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Abort()
			if err := b.Add("d0", sparse.Vector{Terms: []string{"a"}, Weights: []float32{1}}); err != nil {
				t.Fatal(err)
			}
			err = b.Add(tc.id, tc.v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			// a rejected document leaves no trace
			if err := b.Add("ok", sparse.Vector{Terms: []string{"a", "b"}, Weights: []float32{1, 2}}); err != nil {
				t.Fatal(err)
			}
			if st, err := b.Finish(); err != nil || st.Postings != 3 || st.Docs != 2 {
				t.Fatalf("stats %+v, err %v", st, err)
			}
		})
	}
}

func TestBuildFromFileErrorsNameLine(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "v.jsonl")
	os.WriteFile(in, []byte(`{"id":"a","vector":{"x":1}}
{"id":"b","vector":{"x":-2}}
`), 0o644)
	_, err := BuildFromFile(in, filepath.Join(dir, "idx"), BuildOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), "v.jsonl:2:") {
		t.Fatalf("error %v does not name line 2", err)
	}
	if _, err := Open(filepath.Join(dir, "idx")); err == nil {
		t.Fatal("failed build left an index that opens")
	}

	// Deep in a file parsed on several goroutines (sparse.Reader.Each), the
	// builder's own error still names its line.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var sb strings.Builder
	for i := range 2000 {
		w := 1.0
		if i == 1500 {
			w = -1
		}
		fmt.Fprintf(&sb, `{"id":"d%d","vector":{"x":%v,"y":0.5}}`+"\n", i, w)
	}
	os.WriteFile(in, []byte(sb.String()), 0o644)
	_, err = BuildFromFile(in, filepath.Join(dir, "idx2"), BuildOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), "v.jsonl:1501:") {
		t.Fatalf("error %v does not name line 1501", err)
	}
}
