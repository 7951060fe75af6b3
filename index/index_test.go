package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
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
						v = float32(quantizeU8(w, ix.Scale()))
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
			// forward index scores equal a dot product over impacts
			allTerms := make([]uint32, ix.NumTerms())
			ones := make([]float32, ix.NumTerms())
			for tid := range allTerms {
				allTerms[tid], ones[tid] = uint32(tid), 1
			}
			rsize := uint32(ix.Meta.RangeSize)
			for _, d := range docs[:50] {
				var s float64
				ids := make([]uint32, 0)
				for _, term := range d.Vector.Terms {
					tid, _ := ix.Lookup(term)
					ids = append(ids, tid)
				}
				sortU32(ids)
				for _, tid := range ids {
					s += float64(want[[2]uint32{tid, internal[d.ID]}])
				}
				doc := internal[d.ID]
				acc := make([]float64, ix.RangeLen(doc/rsize))
				ix.ScoreRange(doc/rsize, allTerms, ones, acc)
				if got := acc[doc%rsize]; got != s {
					t.Fatalf("doc %s: forward score %v, want %v", d.ID, got, s)
				}
			}
			// range maxima bound every posting
			rs := ix.RangeScale()
			rsz := uint32(ix.Meta.RangeSize)
			for tid := uint32(0); tid < uint32(ix.NumTerms()); tid++ {
				rl := ix.RangeList(tid)
				maxOf := func(r uint32) float64 {
					if rl.Dense != nil {
						return float64(rl.Dense[r]) * rs
					}
					for i := 0; i < len(rl.Max); i++ {
						if uint32(rl.IDs[4*i])|uint32(rl.IDs[4*i+1])<<8|uint32(rl.IDs[4*i+2])<<16|uint32(rl.IDs[4*i+3])<<24 == r {
							return float64(rl.Max[i]) * rs
						}
					}
					return 0
				}
				for c.Open(ix, tid); c.Doc() != End; c.Next() {
					if m := maxOf(c.Doc() / rsz); m < float64(c.Impact()) {
						t.Fatalf("term %d doc %d: range max %v < impact %v", tid, c.Doc(), m, c.Impact())
					}
				}
			}
		})
	}
}

func sortU32(a []uint32) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
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
}
