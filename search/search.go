// Package search retrieves the top-k documents of an index for SPLADE
// query vectors. The score of a document is the inner product of the query
// vector and the document's quantized impacts.
//
// Query processors are separate algorithms over the same index, as in PISA:
//
//   - Exhaustive: term-at-a-time with one accumulator per document; what
//     the naver/splade reference code does, and the correctness oracle.
//   - MaxScore (Turtle and Flood, 1995): exact document-at-a-time; terms
//     whose upper bounds together cannot reach the current k-th score only
//     check candidates found by the others.
//   - BlockMax: Block-Max Pruning (Mallia et al., SIGIR 2024), exact: an
//     upper bound per range of 16 documents from per-term range maxima,
//     ranges visited by decreasing bound, documents scored from the forward
//     index, stopping when no remaining range can beat the k-th score.
//     Learned sparse vectors have long queries and many terms per document,
//     where this beats document-at-a-time dynamic pruning by a wide margin.
//     The few ranges with the largest bounds are scored before the heap is
//     built, so that only ranges that can beat the resulting threshold are
//     heapified (a few percent of those the query touches).
//   - Approx: the same, made approximate by three knobs: the stop test
//     alpha*bound < k-th score (0 < alpha <= 1); query-term pruning, where
//     range bounds use only the heaviest query terms that carry a QueryCut
//     fraction of the query's weight mass (long SPLADE queries put most of
//     their mass on few terms, and the bound computation costs one pass per
//     term over its range maxima); and an optional budget of visited
//     ranges. Visited ranges are still scored with every query term, so the
//     scores returned are exact; only documents may be missed.
//
// On an index of passages (index.Index.HasPassages), every mode returns
// documents scored by their best passage (MaxP; see maxp.go), exactly for
// the exact modes.
//
// All exact modes return identical results, scores included: every
// processor adds the products float64(query weight) x impact of a document
// in increasing term id order (see index.ScoreRange), and ties are broken
// by internal document id ascending. Pruning compares upper bounds inflated
// by a relative 1e-9, far above float64 rounding, so that rounding can
// never prune a document that belongs in the top k.
package search

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/sparse"
)

// Mode selects the query processor.
type Mode int

const (
	Exhaustive Mode = iota
	MaxScore
	BlockMax
	Approx
)

// ParseMode parses exhaustive, maxscore, blockmax or approx.
func ParseMode(s string) (Mode, error) {
	for m := Exhaustive; m <= Approx; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown search mode %q (want exhaustive, maxscore, blockmax or approx)", s)
}

func (m Mode) String() string {
	switch m {
	case Exhaustive:
		return "exhaustive"
	case MaxScore:
		return "maxscore"
	case BlockMax:
		return "blockmax"
	case Approx:
		return "approx"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// MaxQueryTerms bounds the entries of one query vector (as sparse.MaxTerms
// bounds a parsed one); unknown and repeated terms count.
const MaxQueryTerms = sparse.MaxTerms

// DefaultAlpha and DefaultQueryCut are the Approx knobs used when
// Options.Alpha or Options.QueryCut is 0. They were chosen on synthetic
// SPLADE++-like collections (splade bench-search) to keep recall@10 at or
// above 0.95 against the exact top 10; see BENCHMARKS.md.
const (
	DefaultAlpha    = 0.9
	DefaultQueryCut = 0.85
)

// Options configure a search.
type Options struct {
	K    int
	Mode Mode
	// Alpha is the Approx knob in (0, 1]: a range is visited only while
	// Alpha x its upper bound reaches the k-th score (1 = exact).
	Alpha float64
	// QueryCut is the Approx query-term pruning knob in (0, 1]: range
	// bounds use the heaviest query terms whose weights sum to at least
	// QueryCut x the query's total weight (1 = every term).
	QueryCut float64
	// MaxRanges, when > 0, stops Approx after visiting that many ranges.
	MaxRanges int
	// Fingerprint, when not empty, must equal the index's: queries encoded
	// by another model or vocabulary are refused rather than silently
	// scored against the wrong term space.
	Fingerprint string
	// Passages, on a passage index, returns the top K passages instead of
	// the top K documents by their best passage (see maxp.go).
	Passages bool
}

// Hit is one retrieved document.
type Hit struct {
	Doc   uint32 // internal document id (on a passage index: of the best passage)
	ID    string // external id (on a passage index: the document's)
	Score float64
	// Passage is, on a passage index, the external id of the document's
	// best passage, whose score the document takes; empty otherwise.
	Passage string
}

// margin inflates upper bounds before pruning comparisons.
const margin = 1 + 1e-9

// Searcher runs queries against one index; safe for concurrent use.
type Searcher struct {
	ix   *index.Index
	pool sync.Pool
}

// New returns a Searcher over ix.
func New(ix *index.Index) *Searcher {
	s := &Searcher{ix: ix}
	s.pool.New = func() any { return &scratch{qw: make([]float32, ix.NumTerms())} }
	return s
}

// qterm is a query term: its id, weight and score upper bound.
type qterm struct {
	t  uint32
	w  float32
	ub float64
}

// scratch is per-goroutine working memory, reused across queries.
type scratch struct {
	qw      []float32 // dense query weights by term id, zero outside the query
	terms   []qterm
	heavy   []qterm // terms by decreasing weight, for query-term pruning
	acc     []float64
	touched []uint32
	ub      []float64
	cands   []rangeCand
	seeds   []rangeCand
	cursors []index.Cursor
	contrib []float64
	racc    []float64 // accumulators of one range
	tids    []uint32
	tws     []float32
	top     topK
}

func (s *Searcher) validate(opt *Options) error {
	if opt.K < 1 {
		return fmt.Errorf("k must be >= 1, got %d", opt.K)
	}
	if opt.Mode < Exhaustive || opt.Mode > Approx {
		return fmt.Errorf("invalid mode %d", opt.Mode)
	}
	if opt.Mode == Approx {
		if opt.Alpha == 0 {
			opt.Alpha = DefaultAlpha
		}
		if !(opt.Alpha > 0 && opt.Alpha <= 1) {
			return fmt.Errorf("alpha must be in (0, 1], got %v", opt.Alpha)
		}
		if opt.QueryCut == 0 {
			opt.QueryCut = DefaultQueryCut
		}
		if !(opt.QueryCut > 0 && opt.QueryCut <= 1) {
			return fmt.Errorf("query cut must be in (0, 1], got %v", opt.QueryCut)
		}
		if opt.MaxRanges < 0 {
			return fmt.Errorf("max ranges must be >= 0, got %d", opt.MaxRanges)
		}
	}
	if opt.Fingerprint != "" && opt.Fingerprint != s.ix.Meta.Fingerprint {
		return fmt.Errorf("query fingerprint %q differs from the index's %q: queries must be encoded with the model and vocabulary that encoded the documents", opt.Fingerprint, s.ix.Meta.Fingerprint)
	}
	return nil
}

// Search returns the top opt.K documents for query q, best first (on a
// passage index, documents by their best passage: see maxp.go). Terms
// not in the index are ignored; repeated terms add their weights; zero
// weights are ignored; negative or non-finite weights are an error.
func (s *Searcher) Search(q sparse.Vector, opt Options) ([]Hit, error) {
	if err := s.validate(&opt); err != nil {
		return nil, err
	}
	sc := s.pool.Get().(*scratch)
	defer s.pool.Put(sc)
	return s.run(sc, q, opt)
}

func (s *Searcher) search(sc *scratch, q sparse.Vector, opt Options) ([]Hit, error) {
	if err := s.prepare(sc, q); err != nil {
		return nil, err
	}
	defer func() {
		for _, qt := range sc.terms {
			sc.qw[qt.t] = 0
		}
	}()
	sc.top.reset(opt.K)
	var err error
	if len(sc.terms) > 0 {
		switch opt.Mode {
		case Exhaustive:
			err = s.exhaustive(sc)
		case MaxScore:
			err = s.maxScore(sc)
		case BlockMax:
			s.bmp(sc, 1, 1, 0)
		case Approx:
			s.bmp(sc, opt.Alpha, opt.QueryCut, opt.MaxRanges)
		}
	}
	if err != nil {
		return nil, err
	}
	entries := sc.top.sorted()
	hits := make([]Hit, len(entries))
	scale := s.ix.Scale()
	for i, e := range entries {
		hits[i] = Hit{Doc: e.doc, ID: s.ix.DocID(e.doc), Score: e.score * scale}
	}
	return hits, nil
}

// prepare fills sc.terms (sorted by term id) and sc.qw.
func (s *Searcher) prepare(sc *scratch, q sparse.Vector) error {
	if len(q.Terms) != len(q.Weights) {
		return fmt.Errorf("query has %d terms but %d weights", len(q.Terms), len(q.Weights))
	}
	if len(q.Terms) > MaxQueryTerms {
		return fmt.Errorf("query has %d terms, more than %d", len(q.Terms), MaxQueryTerms)
	}
	sc.terms = sc.terms[:0]
	for i, term := range q.Terms {
		w := q.Weights[i]
		if w < 0 || math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			for _, qt := range sc.terms {
				sc.qw[qt.t] = 0
			}
			sc.terms = sc.terms[:0]
			return fmt.Errorf("query term %q has weight %v (weights must be finite and >= 0)", term, w)
		}
		if w == 0 {
			continue
		}
		t, ok := s.ix.Lookup(term)
		if !ok {
			continue
		}
		if sc.qw[t] == 0 {
			sc.terms = append(sc.terms, qterm{t: t})
		}
		sc.qw[t] += w
	}
	slices.SortFunc(sc.terms, func(a, b qterm) int { return int(int64(a.t) - int64(b.t)) })
	for i := range sc.terms {
		qt := &sc.terms[i]
		qt.w = sc.qw[qt.t]
		qt.ub = float64(qt.w) * float64(s.ix.MaxImpact(qt.t))
	}
	return nil
}

// exhaustive is term-at-a-time over every posting of every query term.
func (s *Searcher) exhaustive(sc *scratch) error {
	if len(sc.acc) != s.ix.NumDocs() {
		sc.acc = make([]float64, s.ix.NumDocs())
	}
	acc := sc.acc
	sc.touched = sc.touched[:0]
	var c index.Cursor
	for _, qt := range sc.terms {
		w := float64(qt.w)
		for c.Open(s.ix, qt.t); ; c.NextBlock() {
			docs, imps := c.Block()
			if docs == nil {
				break
			}
			for i, d := range docs {
				if acc[d] == 0 {
					sc.touched = append(sc.touched, d)
				}
				acc[d] += float64(w * float64(imps[i]))
			}
		}
		if err := c.Err(); err != nil {
			return err
		}
	}
	for _, d := range sc.touched {
		sc.top.push(acc[d], d)
		acc[d] = 0
	}
	return nil
}

// maxScore is exact document-at-a-time MaxScore.
func (s *Searcher) maxScore(sc *scratch) error {
	n := len(sc.terms)
	if cap(sc.cursors) < n {
		sc.cursors = make([]index.Cursor, n)
	}
	cur := sc.cursors[:n]
	// order: term positions sorted by increasing upper bound
	order := make([]int, n)
	for i := range order {
		order[i] = i
		cur[i].Open(s.ix, sc.terms[i].t)
	}
	slices.SortFunc(order, func(a, b int) int {
		if sc.terms[a].ub != sc.terms[b].ub {
			if sc.terms[a].ub < sc.terms[b].ub {
				return -1
			}
			return 1
		}
		return a - b
	})
	prefix := make([]float64, n) // prefix[i] = sum of ub of order[0..i]
	var sum float64
	for i, p := range order {
		sum += sc.terms[p].ub
		prefix[i] = sum
	}
	sc.contrib = slices.Grow(sc.contrib[:0], n)[:n]
	clear(sc.contrib)
	contrib := sc.contrib
	ne := 0 // order[:ne] are non-essential
	for {
		theta := sc.top.threshold()
		for ne < n && prefix[ne]*margin < theta {
			ne++
		}
		if ne == n {
			break
		}
		d := uint32(index.End)
		for _, p := range order[ne:] {
			d = min(d, cur[p].Doc())
		}
		if d == index.End {
			break
		}
		var partial float64
		for _, p := range order[ne:] {
			if c := &cur[p]; c.Doc() == d {
				v := float64(float64(sc.terms[p].w) * float64(c.Impact()))
				contrib[p] = v
				partial += v
				c.Next()
			}
		}
		pruned := false
		for i := ne - 1; i >= 0; i-- {
			if (partial+prefix[i])*margin < theta {
				pruned = true
				break
			}
			p := order[i]
			c := &cur[p]
			c.NextGEQ(d)
			if c.Doc() == d {
				v := float64(float64(sc.terms[p].w) * float64(c.Impact()))
				contrib[p] = v
				partial += v
			}
		}
		if !pruned {
			var score float64
			for p := range contrib {
				score += contrib[p]
			}
			sc.top.push(score, d)
		}
		clear(contrib)
	}
	for i := range cur {
		if err := cur[i].Err(); err != nil {
			return err
		}
	}
	return nil
}

type rangeCand struct {
	ub float64
	r  uint32
}

// pruneQuery returns the heaviest query terms whose weights sum to at least
// cut x the total weight (all of them for cut = 1).
func pruneQuery(sc *scratch, cut float64) []qterm {
	if cut >= 1 {
		return sc.terms
	}
	sc.heavy = append(sc.heavy[:0], sc.terms...)
	slices.SortFunc(sc.heavy, func(a, b qterm) int {
		if a.w != b.w {
			if a.w > b.w {
				return -1
			}
			return 1
		}
		return int(int64(a.t) - int64(b.t))
	})
	var total float64
	for _, qt := range sc.heavy {
		total += float64(qt.w)
	}
	var sum float64
	for i, qt := range sc.heavy {
		sum += float64(qt.w)
		if sum >= cut*total {
			return sc.heavy[:i+1]
		}
	}
	return sc.heavy
}

// bmp is Block-Max Pruning; alpha = cut = 1 with no range budget is exact.
func (s *Searcher) bmp(sc *scratch, alpha, cut float64, maxRanges int) {
	nr := s.ix.NumRanges()
	if len(sc.ub) != nr {
		sc.ub = make([]float64, nr)
	}
	ub := sc.ub
	rs := s.ix.RangeScale()
	for _, qt := range pruneQuery(sc, cut) {
		c := float64(qt.w) * rs
		rl := s.ix.RangeList(qt.t)
		if rl.Dense != nil {
			for r, m := range rl.Dense[:nr] {
				ub[r] += c * float64(m)
			}
			continue
		}
		ids := rl.IDs
		for i, m := range rl.Max {
			r := uint32(ids[4*i]) | uint32(ids[4*i+1])<<8 | uint32(ids[4*i+2])<<16 | uint32(ids[4*i+3])<<24
			ub[r] += c * float64(m)
		}
	}
	rsz := uint32(s.ix.Meta.RangeSize)
	if len(sc.racc) < int(rsz) {
		sc.racc = make([]float64, rsz)
	}
	sc.tids, sc.tws = sc.tids[:0], sc.tws[:0]
	for _, qt := range sc.terms {
		sc.tids = append(sc.tids, qt.t)
		sc.tws = append(sc.tws, qt.w)
	}
	pruned := func(u float64) bool {
		theta := sc.top.threshold()
		if alpha == 1 {
			return u*margin < theta
		}
		return alpha*u < theta
	}

	// Seed the threshold by scoring the ranges with the largest bounds
	// first (best-first would visit them first anyway); then only ranges
	// that can still beat it enter the heap, typically a few percent of
	// them, instead of heapifying every range the query touches.
	seeds := sc.seeds[:0]
	nSeeds := seedRanges
	if maxRanges > 0 {
		nSeeds = min(nSeeds, maxRanges)
	}
	for r, u := range ub {
		if nSeeds == 0 {
			break
		}
		if u == 0 || (len(seeds) == nSeeds && u <= seeds[len(seeds)-1].ub) {
			continue
		}
		c := rangeCand{u, uint32(r)}
		if len(seeds) < nSeeds {
			seeds = append(seeds, c)
		} else {
			seeds[len(seeds)-1] = c
		}
		// keep seeds sorted by decreasing bound (ties: lower range first)
		for k := len(seeds) - 1; k > 0 && seeds[k].ub > seeds[k-1].ub; k-- {
			seeds[k], seeds[k-1] = seeds[k-1], seeds[k]
		}
	}
	sc.seeds = seeds
	visited := 0
	for _, c := range seeds {
		ub[c.r] = 0
		if pruned(c.ub) {
			break
		}
		s.scoreRange(sc, c.r)
		visited++
	}
	cands := sc.cands[:0]
	for r, u := range ub {
		if u > 0 {
			if !pruned(u) {
				cands = append(cands, rangeCand{u, uint32(r)})
			}
			ub[r] = 0
		}
	}
	sc.cands = cands
	h := rangeHeap(cands)
	h.init()
	for ; len(h) > 0 && (maxRanges == 0 || visited < maxRanges); visited++ {
		top := h[0]
		if pruned(top.ub) {
			break
		}
		h.pop()
		s.scoreRange(sc, top.r)
	}
}

// seedRanges is how many ranges Block-Max Pruning scores before building
// its heap.
const seedRanges = 4

// scoreRange scores the documents of range r for the whole query and
// offers them to the top k.
func (s *Searcher) scoreRange(sc *scratch, r uint32) {
	acc := sc.racc[:s.ix.RangeLen(r)]
	s.ix.ScoreRange(r, sc.tids, sc.tws, acc)
	base := r * uint32(s.ix.Meta.RangeSize)
	for i, v := range acc {
		if v > 0 {
			sc.top.push(v, base+uint32(i))
			acc[i] = 0
		}
	}
}

// rangeHeap is a binary max-heap of ranges by upper bound.
type rangeHeap []rangeCand

func (h rangeHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h rangeHeap) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		j := l
		if r := l + 1; r < n && h[r].ub > h[l].ub {
			j = r
		}
		if h[j].ub <= h[i].ub {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

func (h *rangeHeap) pop() {
	old := *h
	n := len(old) - 1
	old[0] = old[n]
	*h = old[:n]
	h.down(0)
}
