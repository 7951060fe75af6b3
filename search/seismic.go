package search

import (
	"math"
	"slices"
)

// DefaultHeapFactor and DefaultSeismicQueryCut are the Seismic knobs used
// when Options.HeapFactor or Options.QueryCut is 0. With
// index.DefaultSeismicOptions they keep recall@10 near 0.99 on 1M
// synthetic SPLADE++-like documents (40-60x the speed of exhaustive
// search; heap factor 1: 61-75x at 0.98) and 0.92-0.97 with real SPLADE++
// vectors of another domain (splade bench-search --modes seismic;
// BENCHMARKS.md).
const (
	DefaultHeapFactor      = 0.9
	DefaultSeismicQueryCut = 0.7
)

// seismicScratch is the per-goroutine memory of Seismic search.
type seismicScratch struct {
	seen    []uint64 // bitmap of the documents scored by this query
	marked  []uint32 // the documents set in seen, to clear it
	rank    []int32  // per term: 1 + its position in sc.terms, 0 outside the query
	contrib []float64
	heavy   []qterm
	border  []uint64 // a term's blocks, as sort keys
}

// seismic is Seismic's query processor (Bruch et al., SIGIR 2024) over
// the index's Seismic structure (index.Seismic): the heaviest query terms
// that carry a cut fraction of the query's weight are visited by
// decreasing weight; for each, the summaries of its blocks are scored
// against the query (a dense vector: one lookup per summary entry) and
// the blocks visited by decreasing summary score until, the top k full,
// a summary score misses heapFactor x the k-th score; the documents of a
// visited block are scored exactly through the forward index, once each.
// Summaries keep only part of their mass (index.SeismicOptions), so they
// are estimates, not bounds: heapFactor < 1 visits more blocks (recall),
// > 1 fewer (speed).
//
// A document's score is the searcher's exact score: its products are
// summed in the score order, as every processor does, so documents found
// score as in exhaustive search, bit for bit. With every posting kept,
// full summaries, cut 1 and heap factor 1 the search is exact (the
// summaries are then upper bounds): TestSeismicExactSettings.
func (s *Searcher) seismic(sc *scratch, cut, heapFactor float64) error {
	sm, err := s.ix.Seismic()
	if err != nil {
		return err
	}
	ss := &sc.ss
	if nd := s.ix.NumDocs(); len(ss.seen) != (nd+63)/64 {
		ss.seen = make([]uint64, (nd+63)/64)
	}
	ss.setQuery(sc.terms, s.ix.NumTerms())
	defer func() {
		ss.clearQuery(sc.terms)
		for _, d := range ss.marked {
			ss.seen[d>>6] = 0
		}
		ss.marked = ss.marked[:0]
	}()
	heavy := append(ss.heavy[:0], s.pruneQuery(sc, cut)...)
	ss.heavy = heavy
	slices.SortFunc(heavy, heavierFirst)
	qw := sc.qw
	top := &sc.top
	for _, qt := range heavy {
		b0, b1 := sm.TermBlocks(qt.t)
		// blocks by decreasing summary score, then increasing block, as
		// one key each: a plain sort of integers, about twice as fast as
		// sorting indexes with a comparison function
		ss.border = slices.Grow(ss.border[:0], int(b1-b0))[:b1-b0]
		for b := b0; b < b1; b++ {
			ss.border[b-b0] = uint64(^orderedBits(sm.SummaryScore(b, qw)))<<32 | uint64(b-b0)
		}
		slices.Sort(ss.border)
		for _, key := range ss.border {
			bi, score := uint32(key), fromOrderedBits(^uint32(key>>32))
			// float32 sums: a relative 1e-5 keeps their rounding from
			// skipping what an exact sum would visit
			theta := top.threshold()
			if float64(score)*(1+1e-5) < heapFactor*theta {
				break // the threshold only rises and the scores only fall
			}
			// the block's new documents: far apart in the forward index,
			// their cache misses overlap when fetched together first
			// (1.2-1.7x faster at 1M documents)
			fresh := len(ss.marked)
			for _, d := range sm.BlockDocs(b0 + bi) {
				if ss.seen[d>>6]&(1<<(d&63)) == 0 {
					ss.seen[d>>6] |= 1 << (d & 63)
					ss.marked = append(ss.marked, d)
				}
			}
			docs := ss.marked[fresh:]
			sm.PrefetchDocs(docs)
			for _, d := range docs {
				if float64(sm.DocScore(d, qw))*(1+1e-5) < theta {
					continue
				}
				terms, imps := sm.Doc(d)
				top.push(ss.exactScore(sc.terms, terms, imps), d)
			}
		}
	}
	return nil
}

// setQuery prepares exactScore for the query terms qts of an index of nt
// terms; clearQuery undoes it.
func (ss *seismicScratch) setQuery(qts []qterm, nt int) {
	if len(ss.rank) != nt {
		ss.rank = make([]int32, nt)
	}
	for i, qt := range qts {
		ss.rank[qt.t] = int32(i + 1)
	}
	ss.contrib = slices.Grow(ss.contrib[:0], len(qts))[:len(qts)]
	clear(ss.contrib)
}

func (ss *seismicScratch) clearQuery(qts []qterm) {
	for _, qt := range qts {
		ss.rank[qt.t] = 0
	}
}

// exactScore is the score of a document from its forward entries (terms,
// impacts): its products float64(query weight) x impact added in the
// score order of qts, as every query processor adds them, so that it is
// bit-identical to theirs.
func (ss *seismicScratch) exactScore(qts []qterm, terms []uint16, imps []uint8) float64 {
	for i, u := range terms {
		if r := ss.rank[u]; r != 0 {
			ss.contrib[r-1] = float64(qts[r-1].w) * float64(imps[i])
		}
	}
	var score float64
	for j, v := range ss.contrib {
		if v != 0 {
			score += v
			ss.contrib[j] = 0
		}
	}
	return score
}

// orderedBits maps a float32 to a uint32 of the same order (for numbers,
// not NaN; -0 as 0): the sign bit flipped for positive numbers, every bit
// for negative ones. fromOrderedBits undoes it.
func orderedBits(f float32) uint32 {
	if f == 0 {
		f = 0 // -0 sorts as 0, as comparisons of floats have it
	}
	b := math.Float32bits(f)
	if b>>31 != 0 {
		return ^b
	}
	return b | 1<<31
}

func fromOrderedBits(u uint32) float32 {
	if u>>31 != 0 {
		return math.Float32frombits(u &^ (1 << 31))
	}
	return math.Float32frombits(^u)
}
