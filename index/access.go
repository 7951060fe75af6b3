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
	R := uint32(ix.Meta.RangeSize)
	acc = acc[:ix.Meta.Docs]
	for bi := 0; bi < ti.blocks; bi++ {
		if err := b.decodeHead(ix, ti, bi); err != nil {
			return ix.wrap(err)
		}
		if err := b.decodePostings(); err != nil {
			return ix.wrap(err)
		}
		local, level := b.local, b.level
		switch ix.q {
		case QuantU8:
			for i := 0; i < b.n; i++ {
				a := acc[b.rng[i]*R:]
				for k := b.first[i]; k < b.first[i+1]; k++ {
					a[local[k]] += w * float64(level[k])
				}
			}
		default:
			for i := 0; i < b.n; i++ {
				a := acc[b.rng[i]*R:]
				for k := b.first[i]; k < b.first[i+1]; k++ {
					a[local[k]] += w * float64(ix.impactOf(level[k]))
				}
			}
		}
	}
	return nil
}

// PairBlock is scratch memory for decoding posting blocks; one per
// goroutine, reused across calls.
type PairBlock struct {
	b    pairBlock
	vals [maxBlockPairs]uint32
}

// AddBounds adds W x m to ub[r] for every range r where term t occurs,
// m being the term's range maximum there (a bound level: the maximum
// impact level for u8, a level of RangeScale units otherwise). ub holds
// NumRanges entries; the caller keeps the sums below 2^32.
func (ix *Index) AddBounds(t uint32, W uint32, ub []uint32, pb *PairBlock) error {
	ti := &ix.terms[t]
	ub = ub[:ix.Meta.Ranges]
	if ti.layout == layoutDense {
		for r, m := range ti.denseMaxima(ix) {
			ub[r] += W * uint32(m)
		}
		return nil
	}
	b := &pb.b
	for bi := 0; bi < ti.blocks; bi++ {
		if err := b.decodeBounds(ix, ti, bi); err != nil {
			return ix.wrap(err)
		}
		for i, r := range b.rng[:b.n] {
			ub[r] += W * b.maxv[i]
		}
	}
	return nil
}

// ScoreRanges adds float64(w) x impact of term t's postings in the given
// ranges (increasing) to acc: a posting of document r x RangeSize + j in
// ranges[i] adds to acc[i x RangeSize + j].
func (ix *Index) ScoreRanges(t uint32, w float64, ranges []uint32, acc []float64, pb *PairBlock) error {
	ti := &ix.terms[t]
	b := &pb.b
	R := ix.Meta.RangeSize
	B := 1 << ti.blockLog
	cur := -1 // decoded block
	add := func(i, j int) error {
		if err := b.pairPostings(j); err != nil {
			return ix.wrap(err)
		}
		a := acc[i*R : i*R+R]
		for k := b.first[j]; k < b.first[j+1]; k++ {
			a[b.local[k]] += w * float64(ix.impactOf(b.level[k]))
		}
		return nil
	}
	if ti.layout == layoutDense {
		maxima := ti.denseMaxima(ix)
		for i, r := range ranges {
			if maxima[r] == 0 {
				continue
			}
			p := ti.denseRank(ix, r)
			if bi := p / B; bi != cur {
				if err := b.decodeHead(ix, ti, bi); err != nil {
					return ix.wrap(err)
				}
				cur = bi
			}
			if err := add(i, p%B); err != nil {
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
			if err := b.decodeHead(ix, ti, bi); err != nil {
				return ix.wrap(err)
			}
			cur = bi
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

// decodeBounds decodes the ranges and maxima of a sparse term's block.
func (pb *pairBlock) decodeBounds(ix *Index, ti *termInfo, bi int) error {
	pb.ix, pb.ti, pb.bi = ix, ti, bi
	B := 1 << ti.blockLog
	n := min(B, ti.pairs-bi*B)
	pb.n = n
	lo, hiOff := ti.blockSpan(ix, bi)
	src := ix.postings[lo:hiOff]
	prev := int64(-1)
	if bi > 0 {
		prev = int64(ti.dirLast(ix, bi-1))
	}
	used := decodePFor(pb.rng[:n], src, pb.scratch[:n])
	if used < 0 {
		return pb.fail("malformed gaps")
	}
	src = src[used:]
	for i := 0; i < n; i++ {
		prev += int64(pb.rng[i]) + 1
		pb.rng[i] = uint32(prev)
	}
	if uint32(prev) != ti.dirLast(ix, bi) || prev >= int64(ix.Meta.Ranges) {
		return pb.fail("ranges do not end at the directory's last range")
	}
	if len(src) < 1 {
		return pb.fail("short maxima")
	}
	base := uint32(src[0])
	if decodePFor(pb.maxv[:n], src[1:], pb.scratch[:n]) < 0 {
		return pb.fail("malformed maxima")
	}
	for i := 0; i < n; i++ {
		pb.maxv[i] += base
		if pb.maxv[i] == 0 || pb.maxv[i] > 255 {
			return pb.fail("range maximum out of range")
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
	if err := b.decodeHead(c.ix, c.ti, bi); err != nil {
		c.fail(err)
		return
	}
	if err := b.decodePostings(); err != nil {
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
		arg, argV := b.local[f], c.ix.impactOf(b.level[f])
		k := f
		placed := false
		for x := f + 1; x < e; x++ {
			if !placed && b.local[x] > arg {
				c.docs[k], c.imps[k] = base+uint32(arg), argV
				k++
				placed = true
			}
			c.docs[k], c.imps[k] = base+uint32(b.local[x]), c.ix.impactOf(b.level[x])
			k++
		}
		if !placed {
			c.docs[k], c.imps[k] = base+uint32(arg), argV
		}
	}
	c.cur = c.docs[0]
}
