package index

import (
	"cmp"
	"context"
	"fmt"
	"math/bits"
	"slices"
)

// Block-Max Pruning starts every query by adding, for each query term, the
// term's maximum in every range where it occurs to that range's upper
// bound (AddBounds), then scores a few pairs in each block of the term
// that its candidate ranges fall in (ScoreRangesBound). The on-disk layout
// is chosen for size, and both steps pay for it on the frequent terms that
// carry most of a query's pairs:
//
//   - a sparse term's ranges and maxima are PFor-coded gaps and values, so
//     each pair costs a decode and a scattered add (~4 ns), where a dense
//     term's maxima (a byte per range) are added sixteen at a time by a
//     vector loop. At 100k synthetic documents, sparse terms found in at
//     least a fifth of the ranges hold ~86% of the ~60k pairs an exact
//     query adds; the bounds took a quarter of exact block-max's time.
//   - a pair's documents and impacts are found by summing the counts of
//     the pairs before it in its block, unary codes decoded one after the
//     other (~5 ns a pair, the whole block each time a query touches it):
//     a quarter of exact block-max's time again. A dense term's pairs are
//     found through a rank directory that counts bytes one by one.
//
// So the first query that needs a frequent term (sparse terms in at least
// ViewDensity of the ranges, and the dense terms) lays out in memory a
// bound view of it: its maxima one byte per range (a dense term's are the
// index's own bytes), a presence bitmap with ranks, each pair's count as a
// byte and where each block's streams start. Exact block-max at 100k
// synthetic documents then ran 5.5x faster than exhaustive search instead
// of 3.6x, at 1M 12.7x instead of 6.5x (BENCHMARKS.md). A view changes no
// result (the same values, found another way) and not the index files; it
// costs memory, ~1.2 bytes a range plus a byte a pair, at most ViewBudget
// of postings.bin's size in all (6.6 MB at 100k documents, 57 MB at 1M),
// and is kept while the index is open. WarmBoundViews builds them all at
// once instead (0.45 s at 1M; splade serve does so in the background), so
// that no query pays for them.

// ViewDensity is the fraction of the collection's ranges a sparse term
// must occur in for AddBounds to give it a bound view (dense terms get one
// unless it is above 1: no views); ViewBudget bounds the memory of all
// views, as a fraction of postings.bin's size (past it, terms keep the
// paths without views). Tuning knobs for benchmarks; set them before
// opening an index.
var (
	ViewDensity = 0.2
	ViewBudget  = 0.5
)

// boundView is a term's range maxima laid out densely, with what decoding
// its blocks' counts streams finds: the posting count of every pair (a
// byte each, summed in ~1 ns a pair where decoding took ~5) and where each
// block's docs and impacts streams start.
type boundView struct {
	maxima  []byte   // per range: the term's maximum level there, 0 where absent
	present []uint64 // bit r%64 of word r/64: maxima[r] != 0
	rank    []uint32 // per word of present: the present ranges before it

	cnt    []uint8     // per pair: its posting count
	blocks []viewBlock // per block
	chunks []uint32    // u8: the blocks' impact chunk offsets (pairBlock.chunks), concatenated
}

// viewBlock locates a block's streams in its bytes after the ranges and
// maxima (pairBlock.rest).
type viewBlock struct {
	rest       uint32 // where the block's bytes after its ranges and maxima start
	docs, imps uint32 // where the docs and impacts streams start in those
	chunk      uint32 // the block's first entry in chunks
	postings   uint32 // the block's postings
}

// maximaOr returns v's maxima, or when v is nil those of dense term ti.
func (v *boundView) maximaOr(ti *termInfo, ix *Index) []byte {
	if v != nil {
		return v.maxima
	}
	return ti.denseMaxima(ix)
}

// rankOf returns the number of pairs of the term before range r.
func (v *boundView) rankOf(r uint32) int {
	w := r >> 6
	return int(v.rank[w]) + bits.OnesCount64(v.present[w]&(1<<(r&63)-1))
}

// ViewBytes returns the memory the bound views of ix hold.
func (ix *Index) ViewBytes() int64 {
	ix.viewMu.Lock()
	defer ix.viewMu.Unlock()
	return ix.viewBytes
}

// size is the memory v holds (a dense term's maxima are the index's; 20
// bytes per viewBlock).
func (v *boundView) size(ti *termInfo) int64 {
	n := 8*int64(len(v.present)) + 4*int64(len(v.rank)) + int64(len(v.cnt)) + 20*int64(len(v.blocks)) + 4*int64(len(v.chunks))
	if ti.layout != layoutDense {
		n += int64(len(v.maxima))
	}
	return n
}

// noView marks a term refused a view (the budget could not hold it, or
// its blocks failed to decode), so that later queries do not decode it
// again only to refuse it: the views only grow, so a refusal stands.
var noView = new(boundView)

// boundView returns ti's bound view: nil when ti is too rare, was refused
// one, or views are off; built (decoding ti's blocks with b) when build is
// set and it is not yet. A term whose blocks fail to decode gets none (the
// paths without views then report the error).
func (ix *Index) boundView(ti *termInfo, b *pairBlock, build bool) *boundView {
	if ix.views == nil {
		return nil
	}
	if v := ix.views[ti.id].Load(); v != nil || !build {
		return v.orNil()
	}
	if !ix.viewEligible(ti) {
		return nil
	}
	ix.viewMu.Lock()
	defer ix.viewMu.Unlock()
	if v := ix.views[ti.id].Load(); v != nil {
		return v.orNil()
	}
	v, err := ix.buildView(ti, b)
	if err != nil || float64(ix.viewBytes+v.size(ti)) > ix.viewCap {
		ix.views[ti.id].Store(noView)
		return nil
	}
	ix.viewBytes += v.size(ti)
	ix.views[ti.id].Store(v)
	return v
}

// viewEligible reports whether ti is frequent enough for a bound view: a
// sparse term in ViewDensity of the ranges, or a dense term unless views
// are off (ViewDensity above 1).
func (ix *Index) viewEligible(ti *termInfo) bool {
	return float64(ti.pairs) >= ix.viewPairs || (ti.layout == layoutDense && ix.viewPairs <= float64(ix.Meta.Ranges))
}

// WarmStats reports what WarmBoundViews did.
type WarmStats struct {
	Terms   int   // terms that have a bound view now
	Refused int   // terms refused one (the budget could not hold it, or its blocks did not decode)
	Bytes   int64 // memory all the views hold (ViewBytes)
}

// WarmBoundViews builds now the bound views that queries would otherwise
// build on first use, so that the first queries run as fast as later ones
// (at 8.8M synthetic documents the first 100 exact queries took 47.6 ms
// each while building them, 18.2 ms after a 3.4 s warm-up). Terms go by decreasing pair count:
// when the budget cannot hold every view, the terms it keeps are the ones
// that cost the most to decode, not the first ones queried. It returns
// early, with ctx's error, once ctx is done; queries may run meanwhile,
// but the index must stay open until it returns. Each view takes the
// index's view lock only while it is built, one term at a time, so
// queries needing other views wait at most one term's decoding.
func (ix *Index) WarmBoundViews(ctx context.Context) (WarmStats, error) {
	var st WarmStats
	if ix.views == nil {
		return st, nil
	}
	var order []*termInfo
	for i := range ix.terms {
		if ti := &ix.terms[i]; ti.pairs > 0 && ix.viewEligible(ti) {
			order = append(order, ti)
		}
	}
	slices.SortFunc(order, func(a, b *termInfo) int { return cmp.Or(cmp.Compare(b.pairs, a.pairs), cmp.Compare(a.id, b.id)) })
	var b pairBlock
	for _, ti := range order {
		if err := ctx.Err(); err != nil {
			st.Bytes = ix.ViewBytes()
			return st, err
		}
		if ix.boundView(ti, &b, true) != nil {
			st.Terms++
		} else {
			st.Refused++
		}
	}
	st.Bytes = ix.ViewBytes()
	return st, nil
}

// orNil returns v, or nil for noView.
func (v *boundView) orNil() *boundView {
	if v == noView {
		return nil
	}
	return v
}

// buildView decodes ti's blocks into a new bound view.
func (ix *Index) buildView(ti *termInfo, b *pairBlock) (*boundView, error) {
	nr := ix.Meta.Ranges
	words := (nr + 63) / 64
	v := &boundView{present: make([]uint64, words), rank: make([]uint32, words),
		cnt: make([]uint8, 0, ti.pairs), blocks: make([]viewBlock, ti.blocks)}
	dense := ti.layout == layoutDense
	if dense {
		v.maxima = ti.denseMaxima(ix) // on disk already, as they are wanted
	} else {
		v.maxima = make([]byte, nr)
	}
	for bi := 0; bi < ti.blocks; bi++ {
		if err := b.decodeRanges(ix, ti, bi); err != nil {
			return nil, err
		}
		for k, r := range b.rng[:b.n] {
			if !dense {
				v.maxima[r] = byte(b.maxv[k]) // 1..255, checked by decodeRanges
			}
			v.present[r>>6] |= 1 << (r & 63)
		}
		if err := b.decodeCounts(); err != nil {
			return nil, err
		}
		for _, c := range b.cnt[:b.n] {
			v.cnt = append(v.cnt, uint8(c)) // <= MaxRangeSize
		}
		// the impacts stream runs to the block's end (empty: nil)
		imps := len(b.rest) - len(b.imps)
		lo, hi := ti.blockSpan(ix, bi)
		v.blocks[bi] = viewBlock{rest: uint32(int(hi-lo) - len(b.rest)), docs: uint32(imps - len(b.docs)), imps: uint32(imps),
			chunk: uint32(len(v.chunks)), postings: b.first[b.n]}
		for _, off := range b.chunks {
			v.chunks = append(v.chunks, uint32(off))
		}
	}
	n := 0
	for w, x := range v.present {
		v.rank[w] = uint32(n)
		n += bits.OnesCount64(x)
	}
	if n != ti.pairs { // ranges increase within and across blocks
		return nil, fmt.Errorf("%w: term %d: %d ranges for %d pairs", errCorrupt, ti.id, n, ti.pairs)
	}
	return v, nil
}

// addScaled adds w x m[r] to ub[r] for every range r of m: the bounds of
// a dense term or a bound view.
func addScaled(ub []uint32, m []byte, w uint32) {
	ub = ub[:len(m)]
	n := 0
	if useAddScaledAVX2 && len(m) >= 16 {
		n = len(m) &^ 15
		addScaledAVX2(&ub[0], &m[0], n, w)
	}
	addScaledPortable(ub[n:], m[n:], w)
}

func addScaledPortable(ub []uint32, m []byte, w uint32) {
	ub = ub[:len(m)]
	for r, x := range m {
		ub[r] += w * uint32(x)
	}
}

// viewLocate is locate for a term with view v: the block's ranges and
// maxima are skipped by the kept offset instead of their PFor headers.
func (pb *pairBlock) viewLocate(v *boundView, ix *Index, ti *termInfo, bi int) {
	lo, hi := pb.point(ix, ti, bi)
	pb.rest = ix.postings[lo+uint64(v.blocks[bi].rest) : hi]
}

// viewCounts sets pb's counts for its block bi (located, pb.n set) from
// view v of its term, as decodeCounts would, except that the per-pair
// offsets are summed only as far as the pairs scored need them
// (viewExtend): a batch scores a few pairs of each block it visits.
func (pb *pairBlock) viewCounts(v *boundView, bi int) {
	ix, n := pb.ix, pb.n
	h := &v.blocks[bi]
	pb.lazy, pb.lazyTo = v.cnt[bi<<pb.ti.blockLog:][:n], 0
	pb.first[0], pb.dbit[0] = 0, 0
	pb.first[n] = h.postings // what grow sizes the block's arrays by
	pb.docs = pb.rest[h.docs:h.imps]
	pb.chunks = pb.chunks[:0]
	if pb.imps = pb.rest[h.imps:]; len(pb.imps) == 0 {
		pb.imps = nil
		return
	}
	if ix.q == QuantU8 {
		pb.base = uint32(pb.imps[0])
		end := uint32(len(v.chunks))
		if bi+1 < len(v.blocks) {
			end = v.blocks[bi+1].chunk
		}
		for _, off := range v.chunks[h.chunk:end] {
			pb.chunks = append(pb.chunks, int(off))
		}
	}
}

// viewExtend sums the counts of viewCounts' block up to pair to: cnt is
// then set for the pairs before it, first and dbit up to it included.
func (pb *pairBlock) viewExtend(to int) {
	i := pb.lazyTo
	if to <= i {
		return
	}
	lg, R := pb.ix.rangeLog, pb.ix.Meta.RangeSize
	nibble, maskBits := uint32(lg), uint32(lg+R)
	mc := uint32(maskCount(lg, R))
	f, db := pb.first[i], pb.dbit[i]
	for ; i < to; i++ {
		k := uint32(pb.lazy[i])
		d := k * nibble
		if k >= mc { // a mask pair
			d = maskBits
		}
		pb.cnt[i] = k
		f += k
		db += d
		pb.first[i+1], pb.dbit[i+1] = f, db
	}
	pb.lazyTo = to
}
