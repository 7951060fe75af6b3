package index

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/splade-go/splade/sparse"
)

// TestEntropy recomputes every stream's entropy from the input vectors
// (integer weights with a largest weight of 255, so u8 levels are the
// weights) and compares it with Index.Entropy, which reads the index.
func TestEntropy(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	const nd, nt, R = 6000, 30, 16
	recs := make([]sparse.Record, nd)
	for d := range recs {
		v := sparse.Vector{}
		for tm := 0; tm < nt; tm++ {
			// term tm in about a fraction (tm+1)/nt of the documents, some in runs
			if r.IntN(3*nt) <= tm || (d/7)%5 == tm%5 && r.IntN(2) == 0 {
				v.Terms = append(v.Terms, fmt.Sprintf("t%02d", tm))
				v.Weights = append(v.Weights, float32(1+r.IntN(3+tm)))
			}
		}
		// one document per range with spread weights: a dense term (its
		// range maxima cost about a byte each either way)
		if d%R == 0 {
			v.Terms = append(v.Terms, "all")
			v.Weights = append(v.Weights, float32(1+r.IntN(254)))
		}
		if d == 0 {
			v.Terms = append(v.Terms, "top")
			v.Weights = append(v.Weights, 255)
		}
		recs[d] = sparse.Record{ID: fmt.Sprintf("d%d", d), Vector: v}
	}
	dir := t.TempDir()
	if _, err := Build(dir, recs, BuildOptions{RangeSize: R}); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	got, err := ix.Entropy()
	if err != nil {
		t.Fatal(err)
	}

	// the same from the input: per term, its postings grouped by range
	ent := func(vals []uint32) float64 {
		n := map[uint32]float64{}
		for _, v := range vals {
			n[v]++
		}
		var b float64
		for _, c := range n {
			b += c * math.Log2(float64(len(vals))/c)
		}
		return b
	}
	var want Entropy
	dense := 0
	for tid := uint32(0); tid < uint32(ix.NumTerms()); tid++ {
		name := ix.Term(tid)
		var docs []int
		var levels []uint32
		for d, rec := range recs {
			for j, tm := range rec.Vector.Terms {
				if tm == name {
					docs = append(docs, d)
					levels = append(levels, uint32(rec.Vector.Weights[j]))
				}
			}
		}
		var gaps, maxima, counts, others []uint32
		sparseTerm := !ix.Dense(tid)
		prev := -1
		for i := 0; i < len(docs); {
			rg := docs[i] / R
			j, m := i, uint32(0)
			for ; j < len(docs) && docs[j]/R == rg; j++ {
				m = max(m, levels[j])
			}
			c := j - i
			maxSeen := false
			for _, l := range levels[i:j] {
				if l == m && !maxSeen {
					maxSeen = true // the maximum is stored once, as the pair's
					continue
				}
				others = append(others, l)
			}
			want.Pairs++
			want.Postings += int64(c)
			counts = append(counts, uint32(c))
			lc, _ := math.Lgamma(R + 1)
			lk, _ := math.Lgamma(float64(c + 1))
			lr, _ := math.Lgamma(float64(R - c + 1))
			want.Docs += (lc-lk-lr)/math.Ln2 + math.Log2(float64(c))
			if g := uint32(rg - prev - 1); sparseTerm {
				gaps = append(gaps, uint32(bits.Len32(g)))
				want.Gaps += float64(max(bits.Len32(g)-1, 0))
				maxima = append(maxima, m)
			}
			prev = rg
			i = j
		}
		if !sparseTerm {
			dense++
		}
		want.Gaps += ent(gaps)
		want.Maxima += ent(maxima)
		want.Counts += ent(counts)
		want.Impacts += ent(others)
	}
	if dense == 0 || dense == ix.NumTerms() {
		t.Fatalf("%d of %d terms dense: want both layouts", dense, ix.NumTerms())
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }
	if got.Postings != want.Postings || got.Pairs != want.Pairs || !near(got.Gaps, want.Gaps) || !near(got.Maxima, want.Maxima) ||
		!near(got.Counts, want.Counts) || !near(got.Docs, want.Docs) || !near(got.Impacts, want.Impacts) {
		t.Fatalf("Entropy\n got %+v\nwant %+v", got, want)
	}
	if got.Directory != 64*float64(ix.Meta.Blocks) || got.Dense != float64(dense)*8*float64(ix.Meta.Ranges+4*rankEntries(ix.Meta.Ranges)) {
		t.Fatalf("stored parts: %+v", got)
	}
	if got.Impacts == 0 || got.Gaps == 0 || got.Maxima == 0 {
		t.Fatalf("degenerate corpus: %+v", got)
	}
}
