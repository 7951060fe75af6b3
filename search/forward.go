package search

import (
	"slices"

	"github.com/splade-go/splade/index"
)

// ForwardFinish: exact Block-Max Pruning on an index with a Seismic
// structure finishes each batch through its forward index. After the
// first stage of terms (StageTerms) has dropped the ranges that cannot
// make the top, the documents of the ranges left whose partial score plus
// the bound left may still reach the threshold are scored whole, in one
// pass over their forward entries, instead of looking the remaining terms
// up in the compressed postings range by range. At 1M synthetic documents
// exact block-max took 4.0-4.4 ms a query against 5.8-6.1 without, at
// 100k 0.73 against 0.90-1.0 ms (BENCHMARKS.md, "Seismic"). The results
// are the same, scores included (TestForwardFinishExact). A tuning knob for
// benchmarks (splade bench-search --forward-finish); set it before
// searching.
var ForwardFinish = true

// forwardFinish carries what finishForward needs from Block-Max Pruning.
type forwardFinish struct {
	sm        *index.Seismic
	restScale float64 // bound units to score units
	theta     func() float64
}

// finishForward scores, exactly through the forward index, the documents
// of the ranges left whose partial score plus the bound left may reach
// the threshold, and clears acc.
func (s *Searcher) finishForward(sc *scratch, top *topK, batch []rangeCand, used []uint32, acc []float64, R int, fwd *forwardFinish) error {
	defer clear(acc)
	sm := fwd.sm
	ss := &sc.ss
	nt := s.ix.NumTerms()
	if len(ss.rank) != nt {
		ss.rank = make([]int32, nt)
	}
	for i, qt := range sc.terms {
		ss.rank[qt.t] = int32(i + 1)
	}
	ss.contrib = slices.Grow(ss.contrib[:0], len(sc.terms))[:len(sc.terms)]
	clear(ss.contrib)
	defer func() {
		for _, qt := range sc.terms {
			ss.rank[qt.t] = 0
		}
	}()
	qw := sc.qw
	for j, c := range batch {
		rest := float64(c.ub-used[j]) * fwd.restScale
		d0 := c.r * uint32(R)
		n := s.ix.RangeLen(c.r)
		for x := 0; x < n; x++ {
			theta := fwd.theta()
			if (acc[j*R+x]+rest)*margin < theta {
				continue
			}
			d := d0 + uint32(x)
			if float64(sm.DocScore(d, qw))*(1+1e-5) < theta {
				continue
			}
			terms, imps := sm.Doc(d)
			for i, u := range terms {
				if r := ss.rank[u]; r != 0 {
					ss.contrib[r-1] = float64(sc.terms[r-1].w) * float64(imps[i])
				}
			}
			var score float64
			for k, v := range ss.contrib {
				if v != 0 {
					score += v
					ss.contrib[k] = 0
				}
			}
			if score > 0 {
				top.push(score, d)
			}
		}
	}
	return nil
}
