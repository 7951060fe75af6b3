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
	if ti.layout == layoutDense {
		maxima := ti.denseMaxima(ix)
		for r, m := range maxima {
			ub[r] += W * uint32(m)
		}
		return nil
	}
	if keep != nil {
		keep.t = t
		keep.ranges, keep.max = keep.ranges[:0], keep.max[:0]
	}
	b := &pb.b
	for bi := 0; bi < ti.blocks; bi++ {
		if err := b.decodeRanges(ix, ti, bi); err != nil {
			if keep != nil {
				keep.ranges = keep.ranges[:0]
			}
			return ix.wrap(err)
		}
		for i, r := range b.rng[:b.n] {
			ub[r] += W * b.maxv[i]
		}
		if keep != nil {
			keep.ranges = append(keep.ranges, b.rng[:b.n]...)
			keep.max = append(keep.max, b.maxv[:b.n]...)
		}
	}
	return nil
}

// KnownPairs holds the ranges and maxima of a term's pairs, decoded by
// AddBounds, so that ScoreRanges finds the term's pairs in given ranges
// without decoding them again.
type KnownPairs struct {
	t      uint32
	ranges []uint32
	max    []uint32 // as decoded: a copy, not a conversion to bytes
}

// ScoreRanges adds float64(w) x impact of term t's postings in the given
// ranges (increasing) to acc: a posting of document r x RangeSize + j in
// ranges[i] adds to acc[i x RangeSize + j]. Only the pairs of those ranges
// are decoded. known, when not nil, holds t's pairs as kept by AddBounds.
func (ix *Index) ScoreRanges(t uint32, w float64, ranges []uint32, acc []float64, pb *PairBlock, known *KnownPairs) error {
	ti := &ix.terms[t]
	b := &pb.b
	R := ix.Meta.RangeSize
	B := 1 << ti.blockLog
	cur, counted := -1, false // block located or decoded, and whether its counts are
	add := func(i, j int) error {
		if !counted {
			if err := b.decodeCounts(); err != nil {
				return ix.wrap(err)
			}
			b.grow()
			counted = true
		}
		if err := b.decodePair(j); err != nil {
			return ix.wrap(err)
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
		return ix.wrap(b.locate(ix, ti, bi))
	}
	if ti.layout == layoutDense {
		maxima := ti.denseMaxima(ix)
		for i, r := range ranges {
			m := maxima[r]
			if m == 0 {
				continue
			}
			p := ti.denseRank(ix, r)
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
