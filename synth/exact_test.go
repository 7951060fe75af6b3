package synth

import (
	"slices"
	"strings"
	"testing"

	"github.com/splade-go/splade/sparse"
)

// TestTopK checks the exact ranking against scoring every document of a
// small collection for every query, with one worker and with several.
func TestTopK(t *testing.T) {
	g := New(Options{Docs: 1500, Queries: 25, Seed: 3, Vocab: 4000, Topics: 40})
	var qs []sparse.Vector
	for i := range 25 {
		qs = append(qs, g.Query(i).Vector)
	}
	docs := make([]map[string]float32, 1500)
	for d := range docs {
		v := g.Doc(d).Vector
		docs[d] = map[string]float32{}
		for j, term := range v.Terms {
			docs[d][term] = v.Weights[j]
		}
	}
	const k = 30
	for _, threads := range []int{1, 3} {
		got, err := g.TopK(qs, k, threads)
		if err != nil {
			t.Fatal(err)
		}
		for qi, q := range qs {
			var all []Scored
			for d, dv := range docs {
				var s float64
				for j, term := range q.Terms {
					s += float64(q.Weights[j]) * float64(dv[term])
				}
				if s > 0 {
					all = append(all, Scored{d, s})
				}
			}
			slices.SortFunc(all, better)
			want := all[:min(k, len(all))]
			if len(got[qi]) != len(want) {
				t.Fatalf("%d threads, query %d: %d hits, want %d", threads, qi, len(got[qi]), len(want))
			}
			for r := range want {
				// the order of additions differs: scores agree to rounding
				if got[qi][r].Doc != want[r].Doc || !near(got[qi][r].Score, want[r].Score) {
					t.Fatalf("%d threads, query %d rank %d: %+v, want %+v", threads, qi, r+1, got[qi][r], want[r])
				}
			}
		}
	}
	if _, err := g.TopK([]sparse.Vector{{Terms: []string{"nope"}, Weights: []float32{1}}}, 10, 1); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("unknown term: %v", err)
	}
	if _, err := g.TopK(qs, 0, 1); err == nil {
		t.Fatal("k = 0 accepted")
	}
}

func near(a, b float64) bool { return a-b < 1e-12*b && b-a < 1e-12*b }
