package search

import (
	"math"
	"slices"

	"github.com/splade-go/splade/index"
)

// DefaultHeapFactor and DefaultSeismicQueryCut are the Seismic knobs used
// when Options.HeapFactor or Options.QueryCut is 0. With
// index.DefaultSeismicOptions they keep recall@10 near 0.99 on 1M
// synthetic SPLADE++-like documents (40-60x the speed of exhaustive
// search; heap factor 1: 86-92x at 0.973) and 0.92-0.97 with real SPLADE++
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
	inQuery []uint64 // bitmap of the query's terms: rank's filter, small enough for L1
	contrib []float64
	// queries of fewer than 256 terms: rank in a byte, and the weights and
	// products by rank, slot 0 taking the terms outside the query
	rank8  []uint8
	w8     [256]float64
	c8     [256]float64
	border []uint64  // the blocks to visit, as sort keys
	order  []uint64  // border's keys taken off its heap, in order
	sums   []float32 // a term's summary scores
	est    topK      // the k best estimated scores so far
	cand   []entry   // every document that entered est, with its estimate
	nbrs   []uint32  // the graph neighbours of the best documents
}

// blockLookahead is how many blocks ahead of the one scored Seismic
// search fetches the document ids of.
const blockLookahead = 3

// estErr bounds the relative error of a float32 estimate (a summary's or a
// document's dot product, index.Seismic.DocScore) against the float64 sum
// it estimates: sums of non-negative products, accurate to ~1e-6.
const estErr = 1e-5

// seismic is Seismic's query processor (Bruch et al., SIGIR 2024) over
// the index's Seismic structure (index.Seismic): the heaviest query terms
// that carry a cut fraction of the query's weight are selected, the
// summaries of all their blocks are scored against the query (a dense
// vector: one lookup per summary entry), and the blocks are visited by
// decreasing summary score, whatever their term, until, the top k full, a
// summary score misses heapFactor x the k-th score; the documents of a
// visited block are scored through the forward index, once each.
// Summaries keep only part of their mass (index.SeismicOptions), so they
// are estimates, not bounds: heapFactor < 1 visits more blocks (recall),
// > 1 fewer (speed).
//
// Visiting the blocks of all selected terms in one order, rather than
// term by term as Seismic does, raises the k-th score sooner: at 100k
// synthetic documents it scored a fifth fewer documents at about the
// same recall (302 against 371 a query, recall@10 0.970 against 0.971;
// BENCHMARKS.md, session 11).
//
// When the structure has a κ-NN graph (index.Seismic.WithNeighbors,
// BuildNeighbors), the first `neighbors` graph neighbours of each of the
// k best documents found are scored after the blocks, as Seismic does
// with its graph (Bruch et al., CIKM 2024): documents similar to the best
// ones whose blocks were skipped. It buys recall for the time more cheaply
// than visiting more blocks: at 100k synthetic documents (blocks of 6,
// summary mass 0.3), 10 neighbours at heap factor 0.9 and cut 0.4 reach
// recall@10 0.959 at 54-58x the speed of exhaustive search, where without
// them the best setting found reaches 0.961 at 46-47x (BENCHMARKS.md,
// session 13).
//
// Documents are first ranked by their float32 estimates (DocScore); only
// those whose estimate can still place them in the top k at the end are
// scored exactly, once, after the blocks: about k documents instead of
// every one that entered the top k on the way. A document's final score
// is the searcher's exact score: its products summed in the score order,
// as every processor does, so documents found score as in exhaustive
// search, bit for bit. The margins of estErr keep the result the exact
// top k of the documents scored: with every posting kept, full summaries,
// cut 1 and heap factor 1 the search is exact (the summaries are then
// upper bounds): TestSeismicExactSettings.
func (s *Searcher) seismic(sc *scratch, cut, heapFactor float64, neighbors int) error {
	sm, err := s.ix.Seismic()
	if err != nil {
		return err
	}
	ss := &sc.ss
	if nd := s.ix.NumDocs(); len(ss.seen) != (nd+63)/64 {
		ss.seen = make([]uint64, (nd+63)/64)
	}
	defer func() {
		for _, d := range ss.marked {
			ss.seen[d>>6] = 0
		}
		ss.marked = ss.marked[:0]
	}()
	qw := sc.qw
	// every block of the selected terms, by decreasing summary score, then
	// increasing block, as one integer key each (cheaper to order than
	// indexes with a comparison function)
	ss.border = ss.border[:0]
	heavy := s.pruneQuery(sc, cut)
	// each term's summaries are contiguous: fetching all the terms' at
	// once overlaps their first misses (~1 us of ~17 at 100k documents)
	for _, qt := range heavy {
		sm.PrefetchSummaries(sm.TermBlocks(qt.t))
	}
	for _, qt := range heavy {
		b0, b1 := sm.TermBlocks(qt.t)
		ss.sums = slices.Grow(ss.sums[:0], int(b1-b0))[:b1-b0]
		sm.SummaryScores(b0, b1, qw, ss.sums)
		for i, v := range ss.sums {
			ss.border = append(ss.border, uint64(^orderedBits(v))<<32|uint64(b0+uint32(i)))
		}
	}
	// about a fifth of them are visited (30 of 143 a query at 100k
	// documents): a heap yields those in order for less than sorting all
	heap := keyHeap(ss.border)
	heap.init()
	ord := ss.order[:0]
	est := &ss.est
	est.reset(sc.top.k)
	ss.cand = ss.cand[:0]
	for i := 0; ; i++ {
		// the document ids of the blocks a few steps ahead, each a cache
		// miss of its own otherwise
		for len(ord) <= i+blockLookahead && len(heap) > 0 {
			var key uint64
			heap, key = heap.pop()
			ord = append(ord, key)
			if len(ord) > blockLookahead {
				sm.PrefetchBlock(uint32(key))
			}
		}
		if i >= len(ord) {
			break
		}
		key := ord[i]
		b, score := uint32(key), fromOrderedBits(^uint32(key>>32))
		// the k-th exact score is at least this (an estimate's margin)
		theta := lowered(est.threshold())
		if float64(score)*(1+estErr) < heapFactor*theta {
			break // the threshold only rises and the scores only fall
		}
		ss.scoreNew(sm, sm.BlockDocs(b), qw, theta)
	}
	ss.order = ord
	// the graph: the neighbours of the best documents found, similar
	// documents whose blocks may have been skipped
	if n := min(neighbors, sm.NeighborsPerDoc()); n > 0 {
		// all of them at once: their fetches overlap
		ss.nbrs = ss.nbrs[:0]
		for _, e := range est.h {
			ss.nbrs = append(ss.nbrs, sm.Neighbors(e.doc)[:n]...)
		}
		ss.scoreNew(sm, ss.nbrs, qw, lowered(est.threshold()))
	}
	// exact scores for the candidates that can still be in the top k: the
	// k estimated best, and any within the estimates' margin of them
	theta := lowered(est.threshold())
	ss.setQuery(sc.terms, s.ix.NumTerms())
	for _, c := range ss.cand {
		if c.score*(1+estErr) < theta {
			continue
		}
		terms, imps := sm.Doc(c.doc)
		sc.top.push(ss.exactScore(sc.terms, terms, imps), c.doc)
	}
	ss.clearQuery(sc.terms)
	return nil
}

// scoreNew estimates the documents of docs not scored yet by this query
// and keeps those whose estimate can reach theta (a lowered threshold).
func (ss *seismicScratch) scoreNew(sm *index.Seismic, docs []uint32, qw []float32, theta float64) {
	// the new documents: far apart in the forward index, their cache
	// misses overlap when fetched together first (1.2-1.7x faster at 1M
	// documents)
	fresh := len(ss.marked)
	for _, d := range docs {
		if ss.seen[d>>6]&(1<<(d&63)) == 0 {
			ss.seen[d>>6] |= 1 << (d & 63)
			ss.marked = append(ss.marked, d)
		}
	}
	docs = ss.marked[fresh:]
	sm.PrefetchDocs(docs)
	for _, d := range docs {
		e := float64(sm.DocScore(d, qw))
		if e*(1+estErr) < theta {
			continue // its exact score is below the k-th
		}
		ss.est.push(e, d)
		ss.cand = append(ss.cand, entry{e, d})
	}
}

// lowered is a threshold of estimates lowered by their margin: k documents
// estimated at theta or more score at least theta x (1 - estErr) exactly.
// -1 (top k not full) stays.
func lowered(theta float64) float64 {
	if theta <= 0 {
		return theta
	}
	return theta * (1 - estErr)
}

// setQuery prepares exactScore for the query terms qts of an index of nt
// terms; clearQuery undoes it.
func (ss *seismicScratch) setQuery(qts []qterm, nt int) {
	if ss.small(qts) {
		if len(ss.rank8) != nt {
			ss.rank8 = make([]uint8, nt)
		}
		for i, qt := range qts {
			ss.rank8[qt.t] = uint8(i + 1)
			ss.w8[i+1] = float64(qt.w)
		}
		return
	}
	if len(ss.rank) != nt {
		ss.rank = make([]int32, nt)
		ss.inQuery = make([]uint64, (nt+63)/64)
	}
	for i, qt := range qts {
		ss.rank[qt.t] = int32(i + 1)
		ss.inQuery[qt.t>>6] |= 1 << (qt.t & 63)
	}
	ss.contrib = slices.Grow(ss.contrib[:0], len(qts))[:len(qts)]
	clear(ss.contrib)
}

// small reports whether exactScore keeps the ranks of qts in bytes.
func (ss *seismicScratch) small(qts []qterm) bool { return len(qts) < len(ss.w8) }

func (ss *seismicScratch) clearQuery(qts []qterm) {
	if ss.small(qts) {
		for _, qt := range qts {
			ss.rank8[qt.t] = 0
		}
		return
	}
	for _, qt := range qts {
		ss.rank[qt.t] = 0
		ss.inQuery[qt.t>>6] = 0
	}
}

// exactScore is the score of a document from its forward entries (terms,
// impacts): its products float64(query weight) x impact added in the
// score order of qts, as every query processor adds them, so that it is
// bit-identical to theirs.
func (ss *seismicScratch) exactScore(qts []qterm, terms []uint16, imps []uint8) float64 {
	imps = imps[:len(terms)]
	if ss.small(qts) {
		// without a branch per term (which half the terms mispredict):
		// every product lands in its rank's slot, those of terms outside
		// the query in slot 0 (weight 0), then the query's slots are
		// added in rank order; adding the zeros of unmatched terms leaves
		// the sum as it was
		for i, u := range terms {
			r := ss.rank8[u]
			ss.c8[r] = ss.w8[r] * float64(imps[i])
		}
		var score float64
		for r := 1; r <= len(qts); r++ {
			score += ss.c8[r]
			ss.c8[r] = 0
		}
		return score
	}
	for i, u := range terms {
		// most of a document's terms are not the query's: a bit of the
		// bitmap, in L1, rules them out before rank, 120 KB, is read
		if ss.inQuery[u>>6]&(1<<(u&63)) != 0 {
			r := ss.rank[u]
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

// keyHeap is a binary min-heap of Seismic's block keys.
type keyHeap []uint64

func (h keyHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// pop removes the smallest key; it returns the heap without it and the key.
func (h keyHeap) pop() (keyHeap, uint64) {
	top, n := h[0], len(h)-1
	h[0] = h[n]
	h = h[:n]
	if n > 0 {
		h.down(0)
	}
	return h, top
}

func (h keyHeap) down(i int) {
	x, n := h[i], len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1] < h[c] {
			c++
		}
		if x <= h[c] {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = x
}
