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
//     check candidates found by the others; the cursors skip ranges whose
//     bound (as BlockMax computes them) misses the threshold. Slower than
//     exhaustive search on SPLADE-like collections (100k synthetic
//     documents: 6.2 against 3.8 ms a query; 13.6 without the range
//     skips): whole-list bounds leave ~24 of a query's ~45 terms
//     essential, and cursors decode whole blocks of postings. BlockMax,
//     which looks up only the ranges it visits, is the fast exact mode.
//   - BlockMax: Block-Max Pruning (Mallia et al., SIGIR 2024), exact: an
//     upper bound per range of 16 documents from per-term range maxima;
//     the ranges whose bound reaches a first threshold (from the terms'
//     k-th impacts) are visited by decreasing bound, in batches of growing
//     size, until no remaining bound can beat the k-th score. A batch is
//     scored term by term, heaviest terms first (the score order), and
//     every StageTerms terms a range is dropped once its best partial score
//     plus the bound left to the terms not yet scored misses the threshold,
//     so most ranges are never looked up by most terms. Learned sparse
//     vectors have long queries and many terms per document, where this
//     beats document-at-a-time dynamic pruning by a wide margin. With
//     ForwardFinish, on an index with a Seismic structure, the documents
//     of the ranges left after the first stage are scored whole through
//     its forward index (forward.go: faster at 100k-1M documents, slower
//     at 8.8M, hence off by default).
//   - Approx: the same, made approximate by three knobs: alpha (0 < alpha
//     <= 1) discounts what is only bounded, not yet scored: a range is
//     visited while alpha x its bound reaches the k-th score, and dropped
//     between stages once its best partial score + alpha x the bound left
//     misses it; query-term pruning, where range bounds and the scores that
//     guide the search use only the heaviest query terms that carry a
//     QueryCut fraction of the query's weight mass (long SPLADE queries put
//     most of their mass on few terms, and the bound computation costs one
//     pass per term over its range maxima); and an optional budget of
//     visited ranges. The best documents found are rescored with every
//     query term, so the scores returned are exact; only documents may be
//     missed.
//   - Seismic: approximate search over the index's optional Seismic
//     structure (index.Seismic; Bruch et al., SIGIR 2024): the blocks of
//     the largest postings of the query terms of the cut are visited in
//     one order, by the score of their summaries, until a summary score
//     misses HeapFactor x the k-th score; the documents of the visited
//     blocks are scored through a forward index (see seismic.go), then,
//     when the structure has a graph of nearest neighbours, the
//     neighbours of the best documents found. Its cost barely grows with
//     the collection, where every other mode's does.
//
// On an index of passages (index.Index.HasPassages), every mode returns
// documents scored by their best passage (MaxP; see maxp.go), exactly for
// the exact modes.
//
// All exact modes return identical results, scores included: every
// processor adds the products float64(query weight) x impact of a document
// in one order (scoreOrder, SortTerms), and ties are broken
// by internal document id ascending. Pruning compares upper bounds inflated
// by a relative 1e-9, far above float64 rounding, so that rounding can
// never prune a document that belongs in the top k.
package search

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

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
	Seismic
)

// ParseMode parses exhaustive, maxscore, blockmax, approx or seismic.
func ParseMode(s string) (Mode, error) {
	for m := Exhaustive; m <= Seismic; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown search mode %q (want exhaustive, maxscore, blockmax, approx or seismic)", s)
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
	case Seismic:
		return "seismic"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// MaxQueryTerms bounds the entries of one query vector (as sparse.MaxTerms
// bounds a parsed one); unknown and repeated terms count.
const MaxQueryTerms = sparse.MaxTerms

// DefaultAlpha and DefaultQueryCut are the Approx knobs used when
// Options.Alpha or Options.QueryCut is 0. They were chosen on synthetic
// SPLADE++-like collections (splade bench-search) to keep recall@10 near
// 0.99 against the exact top 10 (1M documents: 0.9875 at 16.0x the speed
// of exhaustive search; 100k: 0.996 at 5.8x; real SPLADE++ queries at 1M:
// 0.991 at 9.6x); alpha 0.8 trades ~1.5 points of recall for ~12% more
// speed. See BENCHMARKS.md.
const (
	DefaultAlpha    = 0.85
	DefaultQueryCut = 0.85
)

// Options configure a search.
type Options struct {
	K    int
	Mode Mode
	// Alpha is the Approx knob in (0, 1]: a range is visited only while
	// Alpha x its upper bound reaches the k-th score, and dropped between
	// stages of terms once its best partial score + Alpha x the bound left
	// to the unscored terms misses it (1 = exact).
	Alpha float64
	// QueryCut is the Approx and Seismic query-term pruning knob in
	// (0, 1]: range bounds (Approx) or the visited blocks (Seismic) use
	// the heaviest query terms whose weights sum to at least QueryCut x
	// the query's total weight (1 = every term).
	QueryCut float64
	// HeapFactor is the Seismic knob in (0, 100]: a block is skipped when
	// its summary score misses HeapFactor x the k-th score (smaller visits
	// more).
	HeapFactor float64
	// Neighbors is the Seismic graph knob: after the blocks, the first
	// Neighbors graph neighbours of each of the k best documents found
	// are scored too, when the structure has a graph
	// (index.Seismic.WithNeighbors; more: higher recall, slower). 0 means
	// all the graph holds, -1 none.
	Neighbors int
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

// qterm is a query term: its id, weight, score upper bound and the key of
// its place in the score order (orderKey).
type qterm struct {
	t   uint32
	w   float32
	ub  float64
	key uint64
}

// newQterm returns query term t of weight w in ix.
func newQterm(ix *index.Index, t uint32, w float32) qterm {
	ub := float64(w) * float64(ix.MaxImpact(t))
	return qterm{t: t, w: w, ub: ub, key: orderKey(ix.Dense(t), ub)}
}

// orderKey is the part of scoreOrder before the id, as one integer: the
// dense-layout flag, then the bound ub (>= 0, finite) decreasing. Sorting
// compares it instead of looking up both terms' layouts in the index at
// every comparison.
func orderKey(dense bool, ub float64) uint64 {
	k := uint64(math.MaxInt64) - math.Float64bits(ub)
	if dense {
		k |= 1 << 63
	}
	return k
}

// scratch is per-goroutine working memory, reused across queries.
type scratch struct {
	qw      []float32 // dense query weights by term id, zero outside the query
	terms   []qterm
	heavy   []qterm // terms by decreasing weight, for query-term pruning
	acc     []float64
	ub      []uint32
	known   []index.KnownPairs
	memo    index.CountMemo // the block counts ScoreRanges decoded for known's terms
	arena   index.PairArena // the memory of known's pairs
	kpTerms []uint32        // the terms of known, increasing
	sterms  []sterm         // the terms that score ranges
	partial topK            // approximate search: best partial scores
	cands   []rangeCand
	order   []rangeCand
	batch   []rangeCand
	branges []uint32
	bucket  []int32
	rset    []uint64 // a bitmap of the ranges, all zero between batches (sortByRange)
	rkeys   []uint64 // sortByRange's keys
	cursors []index.Cursor
	contrib []float64
	racc    []float64 // accumulators of a batch of ranges
	bW      []uint32  // bound weights of the bound terms
	used    []uint32  // per range of a batch: the bound the terms scored so far took
	neUB    []uint32  // MaxScore: per range, the bound of the non-essential terms
	pb      index.PairBlock
	top     topK
	ss      seismicScratch
}

func (s *Searcher) validate(opt *Options) error {
	if opt.K < 1 {
		return fmt.Errorf("k must be >= 1, got %d", opt.K)
	}
	if opt.Mode < Exhaustive || opt.Mode > Seismic {
		return fmt.Errorf("invalid mode %d", opt.Mode)
	}
	if opt.Mode == Approx {
		if opt.Alpha == 0 {
			opt.Alpha = DefaultAlpha
		}
		if !(opt.Alpha > 0 && opt.Alpha <= 1) {
			return fmt.Errorf("alpha must be in (0, 1], got %v", opt.Alpha)
		}
		if opt.MaxRanges < 0 {
			return fmt.Errorf("max ranges must be >= 0, got %d", opt.MaxRanges)
		}
	}
	if opt.Mode == Seismic {
		if opt.HeapFactor == 0 {
			opt.HeapFactor = DefaultHeapFactor
		}
		if !(opt.HeapFactor > 0 && opt.HeapFactor <= 100) {
			return fmt.Errorf("heap factor must be in (0, 100], got %v", opt.HeapFactor)
		}
		switch {
		case opt.Neighbors == 0:
			opt.Neighbors = index.MaxNeighbors
		case opt.Neighbors < -1:
			return fmt.Errorf("neighbors must be >= -1 (-1: none, 0: all the graph holds), got %d", opt.Neighbors)
		}
	}
	if opt.Mode == Approx || opt.Mode == Seismic {
		if opt.QueryCut == 0 && opt.Mode == Approx {
			opt.QueryCut = DefaultQueryCut
		} else if opt.QueryCut == 0 {
			opt.QueryCut = DefaultSeismicQueryCut
		}
		if !(opt.QueryCut > 0 && opt.QueryCut <= 1) {
			return fmt.Errorf("query cut must be in (0, 1], got %v", opt.QueryCut)
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
func (s *Searcher) Search(v sparse.Vector, opt Options) ([]Hit, error) {
	q, err := s.Resolve(v)
	if err != nil {
		return nil, err
	}
	return s.SearchQuery(q, opt)
}

// Query is a query over the index's term ids, as Resolve makes it of a
// sparse.Vector: the form query processors take, as in PISA and Seismic.
// Resolving once costs ~7 us of string lookups for a ~45-term query, out of
// cache: a tenth of an approximate query at 100k documents. Terms may
// repeat (their weights add); zero weights are ignored.
type Query struct {
	Terms   []uint32
	Weights []float32
}

// Resolve maps a vector's terms to the index's ids: terms not in the index
// are dropped, zero weights too; negative or non-finite weights, or more
// than MaxQueryTerms terms, are an error.
func (s *Searcher) Resolve(v sparse.Vector) (Query, error) {
	if len(v.Terms) != len(v.Weights) {
		return Query{}, fmt.Errorf("query has %d terms but %d weights", len(v.Terms), len(v.Weights))
	}
	if len(v.Terms) > MaxQueryTerms {
		return Query{}, fmt.Errorf("query has %d terms, more than %d", len(v.Terms), MaxQueryTerms)
	}
	q := Query{Terms: make([]uint32, 0, len(v.Terms)), Weights: make([]float32, 0, len(v.Terms))}
	for i, term := range v.Terms {
		w := v.Weights[i]
		if err := checkWeight(w); err != nil {
			return Query{}, fmt.Errorf("query term %q %w", term, err)
		}
		if w == 0 {
			continue
		}
		if t, ok := s.ix.Lookup(term); ok {
			q.Terms = append(q.Terms, t)
			q.Weights = append(q.Weights, w)
		}
	}
	return q, nil
}

func checkWeight(w float32) error {
	if w < 0 || math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
		return fmt.Errorf("has weight %v (weights must be finite and >= 0)", w)
	}
	return nil
}

// SearchQuery is Search for a query already resolved to term ids.
func (s *Searcher) SearchQuery(q Query, opt Options) ([]Hit, error) {
	if err := s.validate(&opt); err != nil {
		return nil, err
	}
	sc := s.pool.Get().(*scratch)
	defer s.pool.Put(sc)
	return s.run(sc, q, opt)
}

func (s *Searcher) search(sc *scratch, q Query, opt Options) ([]Hit, error) {
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
			err = s.bmp(sc, opt.K, 1, 1, 0)
		case Approx:
			err = s.bmp(sc, opt.K, opt.Alpha, opt.QueryCut, opt.MaxRanges)
		case Seismic:
			err = s.seismic(sc, opt.QueryCut, opt.HeapFactor, opt.Neighbors)
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

// prepare fills sc.terms (in the score order) and sc.qw.
func (s *Searcher) prepare(sc *scratch, q Query) error {
	if len(q.Terms) != len(q.Weights) {
		return fmt.Errorf("query has %d terms but %d weights", len(q.Terms), len(q.Weights))
	}
	if len(q.Terms) > MaxQueryTerms {
		return fmt.Errorf("query has %d terms, more than %d", len(q.Terms), MaxQueryTerms)
	}
	sc.terms = sc.terms[:0]
	nt := uint32(s.ix.NumTerms())
	for i, t := range q.Terms {
		w := q.Weights[i]
		err := checkWeight(w)
		if err == nil && t >= nt {
			err = fmt.Errorf("is not a term of the index (%d terms)", nt)
		}
		if err != nil {
			for _, qt := range sc.terms {
				sc.qw[qt.t] = 0
			}
			sc.terms = sc.terms[:0]
			return fmt.Errorf("query term id %d %w", t, err)
		}
		if w == 0 {
			continue
		}
		if sc.qw[t] == 0 {
			sc.terms = append(sc.terms, qterm{t: t})
		}
		sc.qw[t] += w
	}
	for i := range sc.terms {
		t := sc.terms[i].t
		sc.terms[i] = newQterm(s.ix, t, sc.qw[t])
	}
	slices.SortFunc(sc.terms, scoreOrder)
	return nil
}

// scoreOrder compares query terms in the order in which every query
// processor adds a document's products (query weight x impact): terms of
// the sparse layout first, then the dense ones (index.Index.Dense); within
// each, the largest weight x maximum impact first, then increasing id.
// Float64 sums depend on their order, so one order makes every
// processor's scores bit-identical. This one lets Block-Max Pruning score
// ranges term by term and drop a range as soon as its partial scores plus
// what its bound leaves to the other terms miss the threshold: the heavy
// terms come first, and the dense terms, costly to look up, last.
func scoreOrder(a, b qterm) int {
	if a.key != b.key {
		return cmp.Compare(a.key, b.key)
	}
	return cmp.Compare(a.t, b.t)
}

// SortTerms sorts a query's terms of ix (ids, with their weights in
// parallel) in the order in which the searcher adds a document's products,
// so that a caller summing them in this order gets the searcher's scores
// bit for bit.
func SortTerms(ix *index.Index, ids []uint32, weights []float32) {
	qts := make([]qterm, len(ids))
	for i, t := range ids {
		qts[i] = newQterm(ix, t, weights[i])
	}
	slices.SortFunc(qts, scoreOrder)
	for i, qt := range qts {
		ids[i], weights[i] = qt.t, qt.w
	}
}

// exhaustive is term-at-a-time over every posting of every query term
// into one accumulator per document, then a scan of all accumulators: the
// loop of the naver/splade reference code, over the compressed index.
func (s *Searcher) exhaustive(sc *scratch) error {
	nd := s.ix.NumDocs()
	if len(sc.acc) != nd {
		sc.acc = make([]float64, nd)
	}
	acc := sc.acc
	for _, qt := range sc.terms {
		if err := s.ix.ScoreTerm(qt.t, float64(qt.w), acc, &sc.pb); err != nil {
			clear(acc)
			return err
		}
	}
	// Documents are scanned in increasing id, so one scoring exactly the
	// current k-th score loses the tie and need not be offered.
	top := &sc.top
	theta := max(top.threshold(), 0)
	for d, v := range acc {
		if v > theta {
			top.push(v, uint32(d))
			theta = max(top.threshold(), 0)
		}
	}
	clear(acc)
	return nil
}

// boundScale is K of the integer range bounds that Block-Max Pruning and
// MaxScore add up (index.AddBounds): the terms of qts weigh
// boundWeight(w, K) each, rounded up so that bound x RangeScale / K never
// falls below a score, and their sum over levels up to 255 stays below
// 2^32.
func boundScale(qts []qterm) float64 {
	var wsum float64
	for _, qt := range qts {
		wsum += float64(qt.w)
	}
	return float64(math.MaxUint32) / 255 / (wsum + float64(len(qts)))
}

// boundWeight is a query weight w in the units of boundScale's K.
func boundWeight(w float32, K float64) uint32 { return uint32(math.Ceil(float64(w) * K)) }

// maxScore is exact document-at-a-time MaxScore, helped by the range
// bounds of Block-Max Pruning: the essential cursors jump over ranges
// whose bound misses the threshold, and a candidate is dropped once its
// essential partial score plus its range's bound for the non-essential
// terms misses it. At 100k synthetic documents that made it 2.1x faster
// (6.2 against 13.6 ms a query, BENCHMARKS.md), still slower than
// exhaustive search (3.8): a cursor decodes every block it lands in, and
// on these collections it lands in most of its blocks.
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

	// Range bounds, in the integer units of Block-Max Pruning (bmp): ub
	// for every query term, neUB for the non-essential ones, added as terms
	// become non-essential. A document of range r can reach theta only if
	// ub[r] does, and its essential partial score plus neUB[r] must.
	ix := s.ix
	nr, R := ix.NumRanges(), uint32(ix.RangeSize())
	if len(sc.ub) != nr {
		sc.ub = make([]uint32, nr)
	}
	if len(sc.neUB) != nr {
		sc.neUB = make([]uint32, nr)
	}
	ub, neUB := sc.ub, sc.neUB
	defer clear(ub)
	defer clear(neUB)
	K := boundScale(sc.terms)
	W := func(p int) uint32 { return boundWeight(sc.terms[p].w, K) }
	for p := range sc.terms {
		if err := ix.AddBounds(sc.terms[p].t, W(p), ub, &sc.pb, nil); err != nil {
			return err
		}
	}
	scale := ix.RangeScale() / K // bound units -> score
	var limit uint32             // ranges whose bound is below limit cannot reach theta
	ne := 0                      // order[:ne] are non-essential
	for {
		theta := sc.top.threshold()
		for ne < n && prefix[ne]*margin < theta {
			if err := ix.AddBounds(sc.terms[order[ne]].t, W(order[ne]), neUB, &sc.pb, nil); err != nil {
				return err
			}
			ne++
		}
		if ne == n {
			break
		}
		if theta > 0 {
			limit = uint32(min(math.Ceil(theta/(scale*margin)), math.MaxUint32))
		}
		d := uint32(index.End)
		for _, p := range order[ne:] {
			d = min(d, cur[p].Doc())
		}
		if d == index.End {
			break
		}
		if r := d / R; ub[r] < limit {
			// skip to the next range whose bound reaches theta
			for r++; int(r) < nr && ub[r] < limit; r++ {
			}
			if int(r) == nr {
				break
			}
			for _, p := range order[ne:] {
				cur[p].NextGEQ(r * R)
			}
			continue
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
		pruned := ne > 0 && (partial+float64(neUB[d/R])*scale)*margin < theta
		for i := ne - 1; i >= 0 && !pruned; i-- {
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
	ub uint32 // bound of all the bound terms
	r  uint32
}

// heavierFirst orders query terms by decreasing weight, then increasing id.
func heavierFirst(a, b qterm) int {
	if a.w != b.w {
		if a.w > b.w {
			return -1
		}
		return 1
	}
	return cmp.Compare(a.t, b.t)
}

// pruneQuery returns the heaviest query terms whose weights sum to at least
// cut x the total weight (all of them for cut = 1), in sc.terms' order.
func (s *Searcher) pruneQuery(sc *scratch, cut float64) []qterm {
	if cut >= 1 {
		return sc.terms
	}
	sc.heavy = append(sc.heavy[:0], sc.terms...)
	slices.SortFunc(sc.heavy, heavierFirst)
	var total float64
	for _, qt := range sc.heavy {
		total += float64(qt.w)
	}
	var sum float64
	n := len(sc.heavy)
	for i, qt := range sc.heavy {
		sum += float64(qt.w)
		if sum >= cut*total {
			n = i + 1
			break
		}
	}
	// the terms up to the n-th heaviest, filtered out of sc.terms to keep
	// its order (cheaper than sorting them again)
	last := sc.heavy[n-1]
	heavy := sc.heavy[:0]
	for _, qt := range sc.terms {
		if heavierFirst(qt, last) <= 0 {
			heavy = append(heavy, qt)
		}
	}
	return heavy
}

// bmp is Block-Max Pruning; alpha = cut = 1 with no range budget is exact.
//
// Range upper bounds are integers: query weight w becomes W = ceil(w x K)
// with K chosen so that no sum overflows 32 bits, and a range's bound is
// the sum of W x (range maximum) over the query terms, so W/K >= w makes
// bound x RangeScale / K an upper bound of every score in the range
// without any rounding. Ranges are then scored best-first in batches: the
// threshold starts at the largest w x (k-th largest impact) over the query
// terms (k documents reach it), only ranges whose bound reaches the
// threshold are kept, and after each batch the threshold rises to the
// current k-th score. Each batch is scored term by term through the
// ranges in increasing order (index.ScoreRanges), so the postings of a
// term are read in order, once per batch.
func (s *Searcher) bmp(sc *scratch, k int, alpha, cut float64, maxRanges int) error {
	ix := s.ix
	if maxRanges == 0 && float64(k) >= ExhaustiveK*float64(ix.NumDocs()) {
		switches.Add(1)
		return s.exhaustive(sc)
	}
	nr := ix.NumRanges()
	if len(sc.ub) != nr {
		sc.ub = make([]uint32, nr)
	}
	ub := sc.ub
	sc.memo.Reset()
	sc.arena.Reset()
	bterms := s.pruneQuery(sc, cut)
	K := boundScale(bterms)
	sc.kpTerms = sc.kpTerms[:0]
	for len(sc.known) < len(bterms) {
		sc.known = append(sc.known, index.KnownPairs{})
	}
	sc.bW = sc.bW[:0]
	for i, qt := range bterms {
		W := boundWeight(qt.w, K)
		sc.bW = append(sc.bW, W)
		sc.kpTerms = append(sc.kpTerms, qt.t)
		sc.known[i].SetCountMemo(&sc.memo)
		sc.known[i].SetArena(&sc.arena)
		if err := ix.AddBounds(qt.t, W, ub, &sc.pb, &sc.known[i]); err != nil {
			clear(ub)
			return err
		}
	}
	// Scoring terms: every query term for exact search. Approximate
	// search scores ranges with the bound terms only (partial scores, whose
	// threshold then guides the pruning) and rescores the best documents
	// exactly at the end.
	exact := cut >= 1
	sc.sterms = sc.sterms[:0]
	kb := 0
	for _, qt := range sc.terms {
		st := sterm{t: qt.t, w: qt.w, light: ix.Dense(qt.t)}
		if kb < len(bterms) && bterms[kb].t == qt.t {
			st.kp, st.W = &sc.known[kb], sc.bW[kb]
			kb++
		} else if !exact {
			continue
		}
		sc.sterms = append(sc.sterms, st)
	}
	top := &sc.top
	if !exact {
		top = &sc.partial
		top.reset(k * rescoreFactor)
	}
	// bound u prunes a range when u x RangeScale / K x margin < theta
	// (exact) or alpha x u x RangeScale / K < theta: u < limit(theta)
	div := ix.RangeScale() * margin
	if alpha < 1 {
		div = ix.RangeScale() * alpha
	}
	limit := func(theta float64) uint32 {
		if theta <= 0 {
			return 1
		}
		return uint32(min(math.Ceil(theta*K/div), math.MaxUint32))
	}
	var theta0 float64
	for _, st := range sc.sterms {
		theta0 = max(theta0, float64(st.w)*float64(ix.KthImpact(st.t, top.k)))
	}

	// candidates: ranges whose bound reaches the threshold, in decreasing
	// bound by a counting sort on the bound's position in [lim, max]
	lim := limit(theta0)
	cands := sc.cands[:0]
	var umax uint32
	for r, u := range ub {
		if u >= lim {
			cands = append(cands, rangeCand{u, uint32(r)})
			umax = max(umax, u)
		}
	}
	clear(ub)
	sc.cands = cands
	if len(cands) == 0 {
		return nil
	}
	const nBuckets = 4096
	if cap(sc.bucket) < nBuckets+1 {
		sc.bucket = make([]int32, nBuckets+1)
	}
	bucket := sc.bucket[:nBuckets+1]
	clear(bucket)
	span := uint64(umax-lim) + 1
	bof := func(u uint32) int { return nBuckets - 1 - int(uint64(u-lim)*nBuckets/span) } // 0 = highest
	for _, c := range cands {
		bucket[bof(c.ub)+1]++
	}
	for i := 1; i <= nBuckets; i++ {
		bucket[i] += bucket[i-1]
	}
	order := slices.Grow(sc.order[:0], len(cands))[:len(cands)]
	for _, c := range cands {
		b := bof(c.ub)
		order[bucket[b]] = c
		bucket[b]++
	}
	sc.order = order

	// best-first in batches of growing size
	R := ix.RangeSize()
	theta := func() float64 { return max(theta0, top.threshold()) }
	// a range is dropped when its best partial score plus the bound left
	// to the terms not yet scored misses the threshold
	restScale := ix.RangeScale() / K
	var fwd *forwardFinish
	if ForwardFinish && exact && alpha == 1 {
		if sm := ix.ForwardIndex(); sm != nil {
			fwd = &forwardFinish{sm: sm, restScale: restScale, theta: theta}
		}
	}
	next, visited, batches, size := 0, 0, 0, FirstBatch
	for next < len(order) && (maxRanges == 0 || visited < maxRanges) {
		lim := limit(theta())
		// After three batches of exact search (the threshold rises fast at
		// first; approximate search's partial threshold rises slower), or
		// from the start when k is more than the first batch's documents
		// (the threshold stays low), the candidates left whose bound may
		// reach lim are counted: bucket[b] now ends bucket b in order.
		if (batches >= 3 && alpha == 1 && exact || k > FirstBatch*R) && maxRanges == 0 && lim <= umax {
			if left := int(bucket[bof(lim)]) - next; float64(left) > SwitchFraction*float64(nr) {
				sc.top.reset(k) // the top of exact search (approximate: still empty)
				switches.Add(1)
				return s.exhaustive(sc)
			}
		}
		batch := sc.batch[:0]
		for ; next < len(order) && len(batch) < size; next++ {
			if maxRanges > 0 && visited+len(batch) >= maxRanges {
				break
			}
			c := order[next]
			if c.ub < lim {
				// within a bucket bounds are not sorted: stop only once a
				// whole bucket is below the limit
				if bucketTop(c.ub, lim, umax, span, nBuckets) < lim {
					next = len(order)
					break
				}
				continue
			}
			batch = append(batch, c)
		}
		sc.batch = batch
		if len(batch) == 0 {
			break
		}
		if err := s.scoreBatch(sc, top, batch, R, func(best float64, rest uint32) bool {
			return dropRange(best, float64(rest)*restScale, alpha, theta())
		}, fwd); err != nil {
			return err
		}
		visited += len(batch)
		batches++
		size = min(BatchGrowth*size, MaxBatch)
	}
	if !exact {
		if err := s.rescore(sc, R); err != nil {
			return err
		}
	}
	return nil
}

// dropRange reports whether a range is dropped between stages of scoring:
// best is its best partial score, rest the bound left to the terms not yet
// scored, theta the threshold. Approximate search discounts only the bound
// left by alpha, never the partial score, which is exact: a range whose
// partial score reaches the threshold is kept. (Discounting both, alpha x
// (best + rest), dropped documents scoring up to 1/alpha times the
// threshold once few terms were left: at 1M synthetic documents, alpha 0.9
// without query cut, recall@10 0.847 against 0.985 with this test.)
func dropRange(best, rest, alpha, theta float64) bool {
	if alpha == 1 {
		return (best+rest)*margin < theta
	}
	return best+alpha*rest < theta
}

// bucketTop is the largest bound that falls in the bucket of u.
func bucketTop(u, lim, umax uint32, span uint64, nBuckets int) uint32 {
	b := uint64(u-lim) * uint64(nBuckets) / span
	top := ((b+1)*span + uint64(nBuckets) - 1) / uint64(nBuckets) // first bound of the next bucket
	return uint32(min(uint64(lim)+top-1, uint64(umax)))
}

// FirstBatch, BatchGrowth and MaxBatch size the batches of ranges
// Block-Max Pruning scores: the first ranges with the largest bounds raise
// the threshold quickly; later batches grow to amortize a pass over each
// term's pairs and the decoding of each block they touch. Large late
// batches pay: at 1M synthetic documents, exact block-max took 10 ms per
// query with batches of up to 8,192 ranges against 14-18 ms with up to 512
// (BENCHMARKS.md, "Search"). Since batches are scored in stages
// (StageTerms), a first batch of 16 measured ~4% faster than 32 at 1M.
// Tuning knobs for benchmarks (splade bench-search --first-batch ...); set
// them before searching.
var (
	FirstBatch  = 16
	MaxBatch    = 8192
	BatchGrowth = 4
)

// rescoreFactor x k documents of the best partial scores are rescored
// exactly by approximate Block-Max Pruning.
const rescoreFactor = 2

// rescore scores the ranges of the documents in sc.partial with every
// query term and offers all their documents to sc.top with exact scores.
func (s *Searcher) rescore(sc *scratch, R int) error {
	rs := sc.branges[:0]
	for _, e := range sc.partial.h {
		rs = append(rs, e.doc/uint32(R))
	}
	slices.Sort(rs)
	rs = slices.Compact(rs)
	batch := sc.batch[:0]
	for _, r := range rs {
		batch = append(batch, rangeCand{r: r})
	}
	sc.branges, sc.batch = rs, batch
	sc.sterms = sc.sterms[:0]
	kb := 0
	for _, qt := range sc.terms {
		st := sterm{t: qt.t, w: qt.w}
		if kb < len(sc.kpTerms) && sc.kpTerms[kb] == qt.t {
			st.kp = &sc.known[kb]
			kb++
		}
		sc.sterms = append(sc.sterms, st)
	}
	return s.scoreBatch(sc, &sc.top, batch, R, nil, nil)
}

// SwitchFraction: Block-Max Pruning hands a query over to exhaustive
// search (whose results are the same, scores included) once the ranges
// still to visit, those whose bounds reach the threshold after a batch,
// are more than this fraction of the collection's ranges (checked from
// the fourth batch on in exact search, and from the start when k exceeds
// the first batch's documents). A visited range costs a few times what
// exhaustive search spends per range (lookups of every query term against
// one sequential pass), so large k, whose thresholds stay low, are faster
// exhaustively: at 100k synthetic documents and k = 1000 block-max
// visited 83% of the ranges and took 10 ms against exhaustive's 4 ms
// (4.4 ms with the hand-over; 1M: 49 against 34 ms, then 35.8). The
// count of candidates left over-estimates what is still visited, hence a
// fraction well above the ~0.3 where the costs meet: at k = 10, 3 of 300
// queries are handed over. Not with a range budget (MaxRanges). A tuning
// knob for benchmarks and tests; set it before searching.
var SwitchFraction = 0.6

// ExhaustiveK: Block-Max Pruning leaves queries whose k is at least this
// fraction of the collection's documents to exhaustive search from the
// start, before computing any bound: their threshold stays too low to
// prune (on SciFact's 5,183 abstracts at k = 100, block-max took 0.28 ms
// a query against exhaustive search's 0.19; at 100k documents and k =
// 1,000, 10 ms against 4). Not with a range budget (MaxRanges).
var ExhaustiveK = 0.01

// switches counts the queries handed over to exhaustive search (tests).
var switches atomic.Int64

// StageTerms is how many scoring terms Block-Max Pruning adds to a batch
// of ranges between two checks of the ranges against the threshold: after
// every StageTerms terms, and before the first light (dense) term, a range
// is dropped when its best partial score plus what its bound leaves to the
// terms not yet scored misses the threshold, so that the later terms are
// not looked up in it. The score order puts the terms with the largest
// bounds first, so the partial scores grow fast and the bounds left
// shrink fast. 0 checks only before the light terms. A tuning knob for
// benchmarks (splade bench-search --stage-terms); set it before searching.
var StageTerms = 4

// sterm is a term that scores ranges: its weight, whether it is light
// (dense) and its pairs if AddBounds kept them.
type sterm struct {
	t     uint32
	w     float32
	W     uint32 // bound weight (Block-Max Pruning's bound terms)
	kp    *index.KnownPairs
	light bool
}

// scoreBatch scores the documents of the given ranges for the scoring
// terms, in the score order, and offers them to top. With drop, the ranges
// are checked at stage boundaries (StageTerms) and those that drop returns
// true for are left out of the rest: their documents cannot make the top.
func (s *Searcher) scoreBatch(sc *scratch, top *topK, batch []rangeCand, R int, drop func(best float64, rest uint32) bool, fwd *forwardFinish) error {
	if words := (len(sc.ub) + 63) / 64; len(sc.rset) != words {
		sc.rset = make([]uint64, words)
	}
	// sc.ub is all zero while batches are scored: the bounds' memory lends
	// sortByRange its per-range slots
	sortByRange(batch, sc.ub, sc.rset, &sc.rkeys)
	n := len(batch) * R
	if len(sc.racc) < n {
		sc.racc = make([]float64, n)
	}
	acc := sc.racc[:n]
	ranges := sc.branges[:0]
	for _, c := range batch {
		ranges = append(ranges, c.r)
	}
	var used []uint32 // per range: the bound the terms scored so far took
	if drop != nil {
		used = slices.Grow(sc.used[:0], len(batch))[:len(batch)]
		clear(used)
		sc.used = used
	}
	for i, st := range sc.sterms {
		if drop != nil && i > 0 && ((StageTerms > 0 && i%StageTerms == 0) || (st.light && !sc.sterms[i-1].light)) {
			// keep the ranges that may still make the top, moved to the front
			kept := 0
			for j, c := range batch {
				a := acc[j*R : (j+1)*R]
				if drop(slices.Max(a), c.ub-used[j]) {
					clear(a)
					continue
				}
				if kept != j {
					copy(acc[kept*R:(kept+1)*R], a)
					clear(a)
					batch[kept], ranges[kept], used[kept] = c, c.r, used[j]
				}
				kept++
			}
			batch, ranges, used = batch[:kept], ranges[:kept], used[:kept]
			acc = acc[:kept*R]
			if kept == 0 {
				break
			}
			if fwd != nil {
				sc.branges = ranges
				return s.finishForward(sc, top, batch, used, acc, R, fwd)
			}
		}
		if err := s.ix.ScoreRangesBound(st.t, float64(st.w), st.W, ranges, acc, used, &sc.pb, st.kp); err != nil {
			clear(acc)
			return err
		}
	}
	sc.branges = ranges
	for i, r := range ranges {
		base := r * uint32(R)
		for j, v := range acc[i*R : (i+1)*R] {
			if v > 0 {
				top.push(v, base+uint32(j))
			}
		}
	}
	clear(acc)
	return nil
}
