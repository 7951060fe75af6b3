package index

import (
	"fmt"
	"path/filepath"
	"slices"
)

// This file holds the read paths of the query processors: a document-at-
// a-time cursor, a whole-list term-at-a-time scorer, range upper bounds
// for Block-Max Pruning and the scoring of chosen ranges.

func (ix *Index) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", filepath.Join(ix.dir, filePostings), err)
}

// ScoreTerm adds float64(w) x impact to acc[doc] for every posting of term
// t: term-at-a-time over a dense accumulator, acc holding NumDocs entries.
func (ix *Index) ScoreTerm(t uint32, w float64, acc []float64, pb *PairBlock) error {
	ti := &ix.terms[t]
	b := &pb.b
	acc = acc[:ix.Meta.Docs]
	for bi := 0; bi < ti.blocks; bi++ {
		if err := b.decodeRanges(ix, ti, bi); err != nil {
			return ix.wrap(err)
		}
		if err := b.decodeCounts(); err != nil {
			return ix.wrap(err)
		}
		docs, imps := pb.flat(int(b.first[b.n]))
		n, err := b.flatten(docs, imps)
		if err != nil {
			return ix.wrap(err)
		}
		for k, d := range docs[:n] {
			acc[d] += w * imps[k]
		}
	}
	return nil
}

// PairBlock is scratch memory for decoding posting blocks; one per
// goroutine, reused across calls.
type PairBlock struct {
	b    pairBlock
	docs []uint32
	imps []float64
}

// flat returns posting arrays of at least n entries.
func (pb *PairBlock) flat(n int) ([]uint32, []float64) {
	if cap(pb.docs) < n {
		pb.docs = make([]uint32, n, 2*n)
		pb.imps = make([]float64, n, 2*n)
	}
	return pb.docs[:n], pb.imps[:n]
}

// AddBounds adds W x m to ub[r] for every range r where term t occurs,
// m being the term's range maximum there (a bound level: the maximum
// impact level for u8, a level of RangeScale units otherwise). ub holds
// NumRanges entries; the caller keeps the sums below 2^32. When keep is
// not nil and t is not dense, the decoded ranges and maxima are stored
// there for ScoreRanges.
func (ix *Index) AddBounds(t uint32, W uint32, ub []uint32, pb *PairBlock, keep *KnownPairs) error {
	ti := &ix.terms[t]
	ub = ub[:ix.Meta.Ranges]
	if keep != nil {
		// a dense term keeps no pairs (ScoreRanges reads its maxima), nor
		// a term with a bound view
		keep.t = t
		keep.ranges, keep.max = keep.ranges[:0], keep.max[:0]
		keep.resetHeads(ix, ti.blocks)
	}
	if v := ix.boundView(ti, &pb.b, true); v != nil {
		// ScoreRanges finds the pairs through the view
		addScaled(ub, v.maxima, W)
		return nil
	}
	if ti.layout == layoutDense {
		addScaled(ub, ti.denseMaxima(ix), W)
		return nil
	}
	return ix.addSparseBounds(ti, W, ub, pb, keep)
}

// addSparseBounds is AddBounds for a sparse term: each block's ranges and
// maxima are decoded straight into the kept arrays (or pb's block), the
// bounds added as they are (sparseRanges). It is a hot loop of exact
// Block-Max Pruning (every pair of every query term): against decoding
// into the block and appending a copy to the kept arrays, exact block-max
// at 1M measured 5.27, 5.53, 5.01 ms per query against 5.80, 5.65, 5.72 in
// alternating runs.
func (ix *Index) addSparseBounds(ti *termInfo, W uint32, ub []uint32, pb *PairBlock, keep *KnownPairs) error {
	b := &pb.b
	var kr, km []uint32
	if keep != nil {
		a := keep.arena
		if a == nil { // no shared arena: k's own, for one term at a time
			a = &keep.own
			a.Reset()
		}
		kr, km = a.take(ti.pairs)
	}
	B := 1 << ti.blockLog
	for bi := 0; bi < ti.blocks; bi++ {
		off := bi * B
		n := min(B, ti.pairs-off)
		b.ix, b.ti, b.bi, b.n = ix, ti, bi, n
		rng, maxv := b.rng[:n], b.maxv[:n]
		if keep != nil {
			rng, maxv = kr[off:off+n], km[off:off+n]
		}
		lo, hiOff := ti.blockSpan(ix, bi)
		if err := b.sparseRanges(ix.postings[lo:hiOff], rng, maxv, ub, W); err != nil {
			return ix.abandon(keep, err)
		}
	}
	if keep != nil {
		keep.ranges, keep.max = kr, km
	}
	return nil
}

// abandon empties what keep holds after a decoding error in AddBounds.
func (ix *Index) abandon(keep *KnownPairs, err error) error {
	if keep != nil {
		keep.ranges, keep.max = keep.ranges[:0], keep.max[:0]
	}
	return ix.wrap(err)
}

// KnownPairs holds the ranges and maxima of a term's pairs, decoded by
// AddBounds, so that ScoreRanges finds the term's pairs in given ranges
// without decoding them again; and, with a CountMemo, where the posting
// counts of the term's blocks that ScoreRanges decoded are kept.
type KnownPairs struct {
	t      uint32
	ranges []uint32
	max    []uint32 // as decoded: a copy, not a conversion to bytes
	memo   *CountMemo
	arena  *PairArena // where the pairs are kept (nil: own)
	own    PairArena
	ix     *Index  // the index heads are for (the term is t)
	gen    uint64  // the memo's generation heads are for
	heads  []int32 // by block: 1 + index of its countHead in memo, 0: not kept
}

// SetCountMemo has the following AddBounds calls prepare k to keep block
// counts in m (nil: none).
func (k *KnownPairs) SetCountMemo(m *CountMemo) { k.memo = m }

// SetArena has the following AddBounds calls keep k's pairs in a's memory
// (nil: memory of k's own, reused by each call).
func (k *KnownPairs) SetArena(a *PairArena) { k.arena = a }

// PairArena lends the KnownPairs of one query the memory of their pairs:
// one pair of arrays for all the query's terms, reused query after query,
// instead of arrays per KnownPairs that each grow whenever a longer list
// comes its way. Fresh memory is what made those growths costly: at 8.8M
// documents, in a process whose heap was large enough that the collector
// never ran (the Seismic structure loaded, or any 9 GB held), every
// growth touched pages new to the process, and exact block-max took 58-78
// ms a query against 29-36 ms (BENCHMARKS.md, "Seismic ... session 6").
// Reset it before each query. One query at a time.
type PairArena struct {
	ranges, max []uint32
	used        int
}

// Reset makes the whole arena available again: the pairs it lent are no
// longer in use.
func (a *PairArena) Reset() { a.used = 0 }

// take lends n entries of both arrays. When the arrays are full it moves
// to new ones of at least twice the size; what it lent from the old ones
// stays valid.
func (a *PairArena) take(n int) (r, m []uint32) {
	if a.used+n > len(a.ranges) {
		size := max(2*len(a.ranges), n, 1<<12)
		a.ranges, a.max, a.used = make([]uint32, size), make([]uint32, size), 0
	}
	lo, hi := a.used, a.used+n
	a.used = hi
	return a.ranges[lo:hi:hi], a.max[lo:hi:hi]
}

// CountMemo keeps the posting counts of the blocks ScoreRanges decoded,
// for the rest of a query, shared by the query's KnownPairs. Block-Max
// Pruning scores ranges in batches, one pass over each term per batch, and
// a head term's blocks come up in batch after batch: at 1M synthetic
// documents an exact query decoded 5,809 blocks' counts, 2,560 of them
// distinct. The counts of a block are a function of the index alone, so a
// kept copy is as good as a decode, and cheaper (a copy of three short
// arrays). Reset it before each query; it holds at most MaxMemoPairs pairs
// (~12 MB), past which blocks are decoded without being kept. One query
// at a time.
type CountMemo struct {
	gen   uint64
	heads []countHead
	first []uint32 // the blocks' first, dbit and cnt arrays, concatenated
	dbit  []uint32
	cnt   []uint32
	chunk []int
}

// MaxMemoPairs bounds a CountMemo: a query at 1M synthetic documents keeps
// ~200k pairs.
const MaxMemoPairs = 1 << 20

// Reset empties m for a new query.
func (m *CountMemo) Reset() {
	m.gen++
	m.heads = m.heads[:0]
	m.first, m.dbit, m.cnt, m.chunk = m.first[:0], m.dbit[:0], m.cnt[:0], m.chunk[:0]
}

// countHead is what decodeCounts found for one block.
type countHead struct {
	at              int // offset of the block's n+1 entries in first, dbit and cnt
	chunks, nchunks int // its PFor chunk offsets in chunk
	docs, imps      []byte
	base            uint32
}

// resetHeads prepares k's heads for k.t of ix (AddBounds).
func (k *KnownPairs) resetHeads(ix *Index, blocks int) {
	if k.memo == nil {
		k.ix, k.heads = nil, k.heads[:0]
		return
	}
	k.ix, k.gen = ix, k.memo.gen
	k.heads = slices.Grow(k.heads[:0], blocks)[:blocks]
	clear(k.heads)
}

// memoFor reports whether k can keep counts for term t of ix now.
func (k *KnownPairs) memoFor(ix *Index, t uint32, blocks int) bool {
	return k.memo != nil && k.ix == ix && k.t == t && k.gen == k.memo.gen && len(k.heads) == blocks
}

// counts sets b's counts for its block bi (located, b.n set), from the
// memo or by decoding them (then kept).
func (k *KnownPairs) counts(b *pairBlock, bi int) error {
	m, n := k.memo, b.n
	if x := k.heads[bi]; x > 0 {
		h := &m.heads[x-1]
		at := h.at
		copy(b.first[:n+1], m.first[at:])
		copy(b.dbit[:n+1], m.dbit[at:])
		copy(b.cnt[:n], m.cnt[at:])
		b.docs, b.imps, b.base = h.docs, h.imps, h.base
		b.chunks = append(b.chunks[:0], m.chunk[h.chunks:h.chunks+h.nchunks]...)
		return nil
	}
	if err := b.decodeCounts(); err != nil {
		return err
	}
	if len(m.first)+n+1 > MaxMemoPairs {
		return nil
	}
	m.heads = append(m.heads, countHead{at: len(m.first), chunks: len(m.chunk), nchunks: len(b.chunks), docs: b.docs, imps: b.imps, base: b.base})
	k.heads[bi] = int32(len(m.heads))
	m.first = append(m.first, b.first[:n+1]...)
	m.dbit = append(m.dbit, b.dbit[:n+1]...)
	m.cnt = append(append(m.cnt, b.cnt[:n]...), 0) // n+1 entries, as first and dbit
	m.chunk = append(m.chunk, b.chunks...)
	return nil
}

// ScoreRanges adds float64(w) x impact of term t's postings in the given
// ranges (increasing) to acc: a posting of document r x RangeSize + j in
// ranges[i] adds to acc[i x RangeSize + j]. Only the pairs of those ranges
// are decoded. known, when not nil, holds t's pairs as kept by AddBounds.
func (ix *Index) ScoreRanges(t uint32, w float64, ranges []uint32, acc []float64, pb *PairBlock, known *KnownPairs) error {
	return ix.ScoreRangesBound(t, w, 0, ranges, acc, nil, pb, known)
}

// ScoreRangesBound is ScoreRanges that also adds W x m to bound[i] for
// each range ranges[i] where t occurs, m being t's range maximum there (as
// AddBounds adds it): what the term's pairs in those ranges took of their
// upper bounds, so that a caller can bound what the other terms may still
// add. bound is nil or holds len(ranges) entries.
func (ix *Index) ScoreRangesBound(t uint32, w float64, W uint32, ranges []uint32, acc []float64, bound []uint32, pb *PairBlock, known *KnownPairs) error {
	ti := &ix.terms[t]
	b := &pb.b
	R := ix.Meta.RangeSize
	B := 1 << ti.blockLog
	cur, counted := -1, false // block located or decoded, and whether its counts are
	memo := known != nil && known.memoFor(ix, t, ti.blocks)
	view := ix.boundView(ti, b, false)
	add := func(i, j int) error {
		if !counted {
			var err error
			if view != nil {
				b.viewCounts(view, cur)
			} else if memo {
				err = known.counts(b, cur)
			} else {
				err = b.decodeCounts()
			}
			if err != nil {
				return ix.wrap(err)
			}
			b.grow()
			counted = true
		}
		if view != nil {
			b.viewExtend(j + 1)
		}
		if err := b.decodePair(j); err != nil {
			return ix.wrap(err)
		}
		if bound != nil {
			bound[i] += W * b.maxv[j]
		}
		a := acc[i*R : i*R+R]
		f, e := b.first[j], b.first[j+1]
		for k := f; k < e; k++ {
			a[b.local[k]] += w * float64(ix.impactOf(b.impact(j, k-f)))
		}
		return nil
	}
	// at moves to block bi unless it is current
	at := func(bi int) error {
		if bi == cur {
			return nil
		}
		cur, counted = bi, false
		if view != nil {
			b.viewLocate(view, ix, ti, bi)
			return nil
		}
		return ix.wrap(b.locate(ix, ti, bi))
	}
	if view != nil || ti.layout == layoutDense {
		// a pair is found by its range's maximum and rank
		maxima := view.maximaOr(ti, ix)
		for i, r := range ranges {
			m := maxima[r]
			if m == 0 {
				continue
			}
			var p int
			if view != nil {
				p = view.rankOf(r)
			} else {
				p = ti.denseRank(ix, r)
			}
			if err := at(p >> ti.blockLog); err != nil {
				return err
			}
			j := p & (B - 1)
			b.rng[j], b.maxv[j] = r, uint32(m)
			if err := add(i, j); err != nil {
				return err
			}
		}
		return nil
	}
	if known != nil && known.t == t && len(known.ranges) == ti.pairs {
		kr := known.ranges
		p := 0
		for i, r := range ranges {
			// first pair at or after r, galloping from p
			if kr[p] < r {
				lo, step := p+1, 1
				hi := lo
				for hi < len(kr) && kr[hi] < r {
					lo = hi + 1
					hi += step
					step <<= 1
				}
				p, _ = slices.BinarySearch(kr[lo:min(hi, len(kr))], r)
				p += lo
				if p == len(kr) {
					return nil
				}
			}
			if kr[p] != r {
				continue
			}
			if err := at(p >> ti.blockLog); err != nil {
				return err
			}
			j := p & (B - 1)
			b.rng[j], b.maxv[j] = r, known.max[p]
			if err := add(i, j); err != nil {
				return err
			}
		}
		return nil
	}
	bi := 0
	for i := 0; i < len(ranges); {
		r := ranges[i]
		// first block whose last range is >= r, galloping from bi
		if ti.dirLast(ix, bi) < r {
			lo, step := bi+1, 1
			hi := lo
			for hi < ti.blocks && ti.dirLast(ix, hi) < r {
				lo = hi + 1
				hi += step
				step <<= 1
			}
			hi = min(hi, ti.blocks)
			for lo < hi {
				mid := int(uint(lo+hi) >> 1)
				if ti.dirLast(ix, mid) < r {
					lo = mid + 1
				} else {
					hi = mid
				}
			}
			if lo == ti.blocks {
				return nil
			}
			bi = lo
		}
		if bi != cur {
			if err := b.decodeRanges(ix, ti, bi); err != nil {
				return ix.wrap(err)
			}
			cur, counted = bi, false
		}
		// merge the candidates with the block's ranges
		last := ti.dirLast(ix, bi)
		j := 0
		for ; i < len(ranges) && ranges[i] <= last; i++ {
			for b.rng[j] < ranges[i] {
				j++
			}
			if b.rng[j] == ranges[i] {
				if err := add(i, j); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Cursor iterates over one term's postings in increasing document id,
// decoding one block of pairs at a time and skipping blocks by their last
// range.
type Cursor struct {
	ix   *Index
	ti   *termInfo
	pb   pairBlock
	bi   int
	docs []uint32
	imps []float32
	i    int
	cur  uint32
	err  error
}

// Open positions c on the first posting of term t.
func (c *Cursor) Open(ix *Index, t uint32) {
	c.ix, c.ti, c.err = ix, &ix.terms[t], nil
	c.load(0)
}

// Doc returns the current document, or End.
func (c *Cursor) Doc() uint32 { return c.cur }

// Impact returns the current posting's impact (in impact units).
func (c *Cursor) Impact() float32 { return c.imps[c.i] }

// Err reports corrupted block data met while decoding (the cursor then
// stops early).
func (c *Cursor) Err() error { return c.err }

// DocFreq returns the length of the posting list.
func (c *Cursor) DocFreq() int { return c.ti.df }

// Next advances to the next posting.
func (c *Cursor) Next() {
	c.i++
	if c.i < len(c.docs) {
		c.cur = c.docs[c.i]
		return
	}
	c.load(c.bi + 1)
}

// NextGEQ advances to the first posting with document >= d.
func (c *Cursor) NextGEQ(d uint32) {
	if c.cur >= d {
		return
	}
	r := d / uint32(c.ix.Meta.RangeSize)
	if c.ti.dirLast(c.ix, c.bi) < r {
		// block holding the first pair at or after range r
		var bi int
		if c.ti.layout == layoutDense {
			if int(r) >= c.ix.Meta.Ranges {
				bi = c.ti.blocks
			} else {
				bi = c.ti.denseRank(c.ix, r) >> c.ti.blockLog
			}
		} else {
			lo, hi := c.bi+1, c.ti.blocks
			for lo < hi {
				mid := int(uint(lo+hi) >> 1)
				if c.ti.dirLast(c.ix, mid) < r {
					lo = mid + 1
				} else {
					hi = mid
				}
			}
			bi = lo
		}
		c.load(bi)
		if c.cur >= d {
			return
		}
	}
	for c.i++; c.i < len(c.docs); c.i++ {
		if c.docs[c.i] >= d {
			c.cur = c.docs[c.i]
			return
		}
	}
	c.load(c.bi + 1)
}

func (c *Cursor) fail(err error) {
	if c.err == nil {
		c.err = c.ix.wrap(err)
	}
	c.bi, c.cur, c.docs, c.i = c.ti.blocks, End, c.docs[:0], 0
}

// load decodes block bi (or ends the cursor) into increasing documents.
func (c *Cursor) load(bi int) {
	c.bi, c.i = bi, 0
	if bi >= c.ti.blocks {
		c.cur, c.docs = End, c.docs[:0]
		return
	}
	b := &c.pb
	if err := b.decodeRanges(c.ix, c.ti, bi); err != nil {
		c.fail(err)
		return
	}
	if err := b.decodeCounts(); err != nil {
		c.fail(err)
		return
	}
	if err := b.decodeAll(); err != nil {
		c.fail(err)
		return
	}
	total := int(b.first[b.n])
	c.docs = slices.Grow(c.docs[:0], total)[:total]
	c.imps = slices.Grow(c.imps[:0], total)[:total]
	R := uint32(c.ix.Meta.RangeSize)
	for i := 0; i < b.n; i++ {
		f, e := int(b.first[i]), int(b.first[i+1])
		base := b.rng[i] * R
		// the maximum comes first; the others increase: insert it in place
		arg, argV := b.local[f], c.ix.impactOf(b.impact(i, 0))
		k := f
		placed := false
		for x := f + 1; x < e; x++ {
			if !placed && b.local[x] > arg {
				c.docs[k], c.imps[k] = base+uint32(arg), argV
				k++
				placed = true
			}
			c.docs[k], c.imps[k] = base+uint32(b.local[x]), c.ix.impactOf(b.impact(i, uint32(x-f)))
			k++
		}
		if !placed {
			c.docs[k], c.imps[k] = base+uint32(arg), argV
		}
	}
	c.cur = c.docs[0]
}
