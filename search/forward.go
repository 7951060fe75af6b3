package search

import (
	"github.com/splade-go/splade/index"
)

// ForwardFinish: exact Block-Max Pruning on an index with a Seismic
// structure finishes each batch through its forward index. After the
// first stage of terms (StageTerms) has dropped the ranges that cannot
// make the top, the documents of the ranges left whose partial score plus
// the bound left may still reach the threshold are scored whole, in one
// pass over their forward entries, instead of looking the remaining terms
// up in the compressed postings range by range. The results are the same,
// scores included (TestForwardFinishExact). Off by default: on synthetic
// collections it made exact block-max faster at 100k documents (about
// 4.5x exhaustive's speed against 3.7x) and 1M (9.6x against 7.1x) but
// slower at 8.8M (40 ms a query against 29 in one process; 44-56 against
// 25-28 before index.PairArena; BENCHMARKS.md, "Seismic"). splade search
// --forward-finish and bench-search --forward-finish set it; set it
// before searching.
var ForwardFinish = false

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
	ss.setQuery(sc.terms, s.ix.NumTerms())
	defer ss.clearQuery(sc.terms)
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
			if score := ss.exactScore(sc.terms, terms, imps); score > 0 {
				top.push(score, d)
			}
		}
	}
	return nil
}
