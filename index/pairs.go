package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// A term's postings are stored once, grouped by range: the ranges of
// RangeSize consecutive documents in which the term occurs ("pairs" of term
// and range), each with the term's maximum impact in the range, the
// documents of the range holding the term and their impacts. One structure
// serves every query processor: term-at-a-time and document-at-a-time read
// it in document order, and Block-Max Pruning computes its range upper
// bounds from the pairs' maxima, which are stored once (the maximum posting
// of a pair is not repeated among its impacts).
//
// Pairs are stored in blocks of 2^k pairs (16 to 128, chosen per term so
// that a block holds a few hundred postings), each listed in a block
// directory (last range, byte offset) for skipping. A block holds these
// streams, in this order (PFor is the patched frame of reference of
// codec.go):
//
//	gaps     PFor(range - previous range - 1)             sparse terms only
//	maxima   u8 base, PFor(max - base)                     sparse terms only
//	counts   countsFlags: ceil(n/8) bytes, bit i = pair i holds more than
//	         one posting, then PFor(count - 2) of those pairs (when any);
//	         countsPlain: PFor(count - 1)
//	docs     bit stream, per pair: if count x L <= L + RangeSize (L =
//	         log2 RangeSize) the local document (doc - range x RangeSize)
//	         of the maximum posting then those of the others, increasing,
//	         L bits each; else the maximum's local document (L bits) and a
//	         RangeSize-bit mask of all the pair's documents
//	impacts  u8: base u8 and PFor(level - base) of the non-maximum postings
//	         in pair order, in chunks of 128 values (absent when none);
//	         f16/f32: every posting's impact, raw, the maximum first in each
//	         pair
//
// Dense terms (those in most ranges) keep their maxima as one byte per
// range of the collection (0 where absent), followed by a rank directory,
// instead of the gaps and maxima streams: their range bounds are then a
// plain array scan, and a range's pair is found by counting.

const (
	maxBlockPairs = 128
	minBlockPairs = 16
	othersChunk   = 128 // impacts per PFor chunk, for random access

	layoutSparse = 0
	layoutDense  = 1

	countsFlags = 0
	countsPlain = 1
)

// blockPairs picks the pairs per block for a term whose pairs hold avg
// postings on average: about 200 postings a block.
func blockPairsFor(avg float64) int {
	b := maxBlockPairs
	for b > minBlockPairs && float64(b)*avg > 256 {
		b /= 2
	}
	return b
}

// docBits is the size of a pair's document field for count c.
func docBits(c, lg, rangeSize int) int {
	if c*lg <= lg+rangeSize {
		return c * lg
	}
	return lg + rangeSize
}

// Sizes breaks an index's posting bytes down by stream.
type Sizes struct {
	Gaps, Maxima, Dense, Counts, Docs, Impacts, Directory int64
}

// Total returns the sum of the posting streams.
func (s Sizes) Total() int64 {
	return s.Gaps + s.Maxima + s.Dense + s.Counts + s.Docs + s.Impacts + s.Directory
}

func (s *Sizes) add(o Sizes) {
	s.Gaps += o.Gaps
	s.Maxima += o.Maxima
	s.Dense += o.Dense
	s.Counts += o.Counts
	s.Docs += o.Docs
	s.Impacts += o.Impacts
	s.Directory += o.Directory
}

// pairInfo is one (term, range) pair while a term is being encoded.
type pairInfo struct {
	r        uint32
	start, c int // postings [start, start+c) of the term
	arg      int // index of the maximum posting (the first of equal ones)
	bound    uint32
}

// termEncoder encodes one term's postings.
type termEncoder struct {
	q          Quantization
	rangeSize  int
	lg         int
	nRanges    int
	rangeScale float64

	pairs  []pairInfo
	vals   []uint32
	tmp    []uint32
	tmp2   []uint32
	bw     bitWriter
	blocks [][]byte // encoded blocks (sparse form)
	common [][]byte // counts, docs and impacts of each block
	buf    []byte
}

// encodedTerm is a term ready to be written.
type encodedTerm struct {
	layout     uint8
	countsMode uint8
	blockLog   uint8
	pairs      int
	data       []byte   // dense extras then blocks
	dir        []uint32 // (last range, offset) per block
	sizes      Sizes
}

// encode groups the postings (docs increasing, raws their stored impacts)
// into pairs and blocks and picks the smaller layout and counts coding.
func (e *termEncoder) encode(docs, raws []uint32) encodedTerm {
	R := uint32(e.rangeSize)
	e.pairs = e.pairs[:0]
	for i := 0; i < len(docs); {
		r := docs[i] / R
		p := pairInfo{r: r, start: i, arg: i}
		best := impactValue(e.q, raws[i])
		j := i + 1
		for ; j < len(docs) && docs[j]/R == r; j++ {
			if v := impactValue(e.q, raws[j]); v > best {
				best, p.arg = v, j
			}
		}
		p.c = j - i
		if e.q == QuantU8 {
			p.bound = raws[p.arg]
		} else {
			p.bound = uint32(ceilRange(best, e.rangeScale))
		}
		e.pairs = append(e.pairs, p)
		i = j
	}
	np := len(e.pairs)
	B := blockPairsFor(float64(len(docs)) / float64(np))
	out := encodedTerm{blockLog: uint8(bits.TrailingZeros(uint(B))), pairs: np}

	// counts coding: whichever is smaller over the whole term
	var flagsSize, plainSize int
	for lo := 0; lo < np; lo += B {
		hi := min(lo+B, np)
		flagsSize += len(e.appendCounts(nil, e.pairs[lo:hi], countsFlags))
		plainSize += len(e.appendCounts(nil, e.pairs[lo:hi], countsPlain))
	}
	if plainSize < flagsSize {
		out.countsMode = countsPlain
	}

	// sparse-only streams and the common ones, block by block
	var sparseSize int
	e.blocks, e.common = e.blocks[:0], e.common[:0]
	prev := int64(-1)
	for lo := 0; lo < np; lo += B {
		ps := e.pairs[lo:hi(lo, B, np)]
		var sb []byte
		e.vals = e.vals[:0]
		for _, p := range ps {
			e.vals = append(e.vals, uint32(int64(p.r)-prev-1))
			prev = int64(p.r)
		}
		sb = appendPFor(sb, e.vals, e.tmp)
		gapBytes := len(sb)
		base := ps[0].bound
		for _, p := range ps {
			base = min(base, p.bound)
		}
		e.vals = e.vals[:0]
		for _, p := range ps {
			e.vals = append(e.vals, p.bound-base)
		}
		sb = append(sb, byte(base))
		sb = appendPFor(sb, e.vals, e.tmp)
		out.sizes.Gaps += int64(gapBytes)
		out.sizes.Maxima += int64(len(sb) - gapBytes)
		sparseSize += len(sb)
		e.blocks = append(e.blocks, sb)
		e.common = append(e.common, e.appendCommon(nil, ps, docs, raws, out.countsMode, &out.sizes))
	}
	nb := len(e.blocks)
	denseSize := e.nRanges + 4*rankEntries(e.nRanges)
	// Dense layout when it costs at most 5% more than the sparse streams:
	// its bounds are an array scan and its pairs are found by counting.
	if denseSize*100 <= sparseSize*105 {
		out.layout = layoutDense
		out.sizes.Gaps, out.sizes.Maxima = 0, 0
		out.sizes.Dense = int64(denseSize)
		data := make([]byte, e.nRanges, denseSize)
		for _, p := range e.pairs {
			data[p.r] = byte(p.bound)
		}
		data = appendRank(data, data[:e.nRanges])
		out.data = data
	}
	out.dir = make([]uint32, 0, 2*nb)
	base := len(out.data)
	for b := 0; b < nb; b++ {
		last := e.pairs[hi(b*B, B, np)-1].r
		out.dir = append(out.dir, last, uint32(len(out.data)-base))
		if out.layout == layoutSparse {
			out.data = append(out.data, e.blocks[b]...)
		}
		out.data = append(out.data, e.common[b]...)
	}
	out.sizes.Directory = int64(8 * nb)
	return out
}

func hi(lo, b, n int) int { return min(lo+b, n) }

// rankEntries is the length of a dense term's rank directory: the number
// of present ranges before each multiple of 64, and the total.
func rankEntries(nRanges int) int { return (nRanges+63)/64 + 1 }

func appendRank(dst, maxima []byte) []byte {
	n := uint32(0)
	for i := 0; i < len(maxima); i += 64 {
		dst = binary.LittleEndian.AppendUint32(dst, n)
		for _, m := range maxima[i:min(i+64, len(maxima))] {
			if m != 0 {
				n++
			}
		}
	}
	return binary.LittleEndian.AppendUint32(dst, n)
}

// appendCounts appends the counts stream of a block.
func (e *termEncoder) appendCounts(dst []byte, ps []pairInfo, mode uint8) []byte {
	e.vals = e.vals[:0]
	if mode == countsPlain {
		for _, p := range ps {
			e.vals = append(e.vals, uint32(p.c-1))
		}
		return appendPFor(dst, e.vals, e.tmp)
	}
	flags := make([]byte, (len(ps)+7)/8)
	for i, p := range ps {
		if p.c > 1 {
			flags[i/8] |= 1 << (i % 8)
			e.vals = append(e.vals, uint32(p.c-2))
		}
	}
	dst = append(dst, flags...)
	if len(e.vals) > 0 {
		dst = appendPFor(dst, e.vals, e.tmp)
	}
	return dst
}

// appendCommon appends the counts, docs and impacts streams of a block.
func (e *termEncoder) appendCommon(dst []byte, ps []pairInfo, docs, raws []uint32, countsMode uint8, sz *Sizes) []byte {
	n0 := len(dst)
	dst = e.appendCounts(dst, ps, countsMode)
	sz.Counts += int64(len(dst) - n0)

	n0 = len(dst)
	R := uint32(e.rangeSize)
	e.bw.buf = dst
	for _, p := range ps {
		base := p.r * R
		argLocal := uint64(docs[p.arg] - base)
		if p.c*e.lg <= e.lg+e.rangeSize {
			e.bw.write(argLocal, e.lg)
			for i := p.start; i < p.start+p.c; i++ {
				if i != p.arg {
					e.bw.write(uint64(docs[i]-base), e.lg)
				}
			}
		} else {
			e.bw.write(argLocal, e.lg)
			var mask uint64
			for i := p.start; i < p.start+p.c; i++ {
				mask |= 1 << (docs[i] - base)
			}
			e.bw.write(mask, e.rangeSize)
		}
	}
	dst = e.bw.flush()
	e.bw.buf = nil
	sz.Docs += int64(len(dst) - n0)

	n0 = len(dst)
	if e.q == QuantU8 {
		e.vals = e.vals[:0]
		for _, p := range ps {
			for i := p.start; i < p.start+p.c; i++ {
				if i != p.arg {
					e.vals = append(e.vals, raws[i])
				}
			}
		}
		if len(e.vals) > 0 {
			base := slices.Min(e.vals)
			for i := range e.vals {
				e.vals[i] -= base
			}
			dst = append(dst, byte(base))
			for lo := 0; lo < len(e.vals); lo += othersChunk {
				dst = appendPFor(dst, e.vals[lo:min(lo+othersChunk, len(e.vals))], e.tmp)
			}
		}
	} else {
		for _, p := range ps {
			dst = e.appendRaw(dst, raws[p.arg])
			for i := p.start; i < p.start+p.c; i++ {
				if i != p.arg {
					dst = e.appendRaw(dst, raws[i])
				}
			}
		}
	}
	sz.Impacts += int64(len(dst) - n0)
	return dst
}

func (e *termEncoder) appendRaw(dst []byte, raw uint32) []byte {
	if e.q == QuantF16 {
		return binary.LittleEndian.AppendUint16(dst, uint16(raw))
	}
	return binary.LittleEndian.AppendUint32(dst, raw)
}

// errCorrupt is wrapped by decoding errors.
var errCorrupt = errors.New("corrupted posting block")

// pairBlock is one decoded block of a term's pairs. decodeHead fills the
// ranges, maxima and counts; postings are decoded on demand, all of them
// (decodePostings) or one pair's (pairPostings).
type pairBlock struct {
	ix    *Index
	ti    *termInfo
	bi    int // block index within the term
	n     int
	rng   [maxBlockPairs]uint32
	maxv  [maxBlockPairs]uint32 // u8: the maximum level; f16/f32: the bound level
	cnt   [maxBlockPairs]uint32
	first [maxBlockPairs + 1]uint32 // postings before each pair
	dbit  [maxBlockPairs + 1]uint32 // bit offset of each pair's docs field

	docs   []byte // docs stream
	imps   []byte // impacts stream
	chunks []int  // u8: byte offset of each PFor chunk in imps (after the base)

	// decodePostings output, in pair order, maximum first in each pair
	local []uint8
	level []uint32 // u8 levels, or f16/f32 bits
	obuf  []uint32

	scratch [maxBlockPairs]uint32
}

func (pb *pairBlock) fail(format string, args ...any) error {
	return fmt.Errorf("%w: term %d block %d: %s", errCorrupt, pb.ti.id, pb.bi, fmt.Sprintf(format, args...))
}

// decodeHead decodes block bi of term ti up to its counts and locates its
// docs and impacts streams.
func (pb *pairBlock) decodeHead(ix *Index, ti *termInfo, bi int) error {
	pb.ix, pb.ti, pb.bi = ix, ti, bi
	B := 1 << ti.blockLog
	n := min(B, ti.pairs-bi*B)
	pb.n = n
	lo, hiOff := ti.blockSpan(ix, bi)
	src := ix.postings[lo:hiOff]
	nr := uint32(ix.Meta.Ranges)
	if ti.layout == layoutSparse {
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
		if prev >= int64(nr) || uint32(prev) != ti.dirLast(ix, bi) {
			return pb.fail("ranges do not end at the directory's last range")
		}
		if len(src) < 1 {
			return pb.fail("short maxima")
		}
		base := uint32(src[0])
		used = decodePFor(pb.maxv[:n], src[1:], pb.scratch[:n])
		if used < 0 {
			return pb.fail("malformed maxima")
		}
		src = src[1+used:]
		for i := 0; i < n; i++ {
			pb.maxv[i] += base
			if pb.maxv[i] == 0 || pb.maxv[i] > 255 {
				return pb.fail("range maximum out of range")
			}
		}
	} else {
		// the block's ranges are the present ranges of rank [bi*B, bi*B+n)
		maxima := ti.denseMaxima(ix)
		r := ti.dirStart(ix, bi)
		k := 0
		for ; k < n && r < nr; r++ {
			if m := maxima[r]; m != 0 {
				pb.rng[k], pb.maxv[k] = r, uint32(m)
				k++
			}
		}
		if k < n || pb.rng[n-1] != ti.dirLast(ix, bi) {
			return pb.fail("dense ranges do not match the directory")
		}
	}
	// counts
	R := ix.Meta.RangeSize
	if ti.countsMode == countsPlain {
		used := decodePFor(pb.cnt[:n], src, pb.scratch[:n])
		if used < 0 {
			return pb.fail("malformed counts")
		}
		src = src[used:]
		for i := 0; i < n; i++ {
			pb.cnt[i]++
		}
	} else {
		nf := (n + 7) / 8
		if len(src) < nf {
			return pb.fail("short count flags")
		}
		flags := src[:nf]
		src = src[nf:]
		nm := 0
		for _, f := range flags {
			nm += bits.OnesCount8(f)
		}
		if nm > 0 {
			used := decodePFor(pb.scratch[:nm], src, pb.first[:nm])
			if used < 0 {
				return pb.fail("malformed counts")
			}
			src = src[used:]
		}
		k := 0
		for i := 0; i < n; i++ {
			if flags[i>>3]>>(i&7)&1 != 0 {
				pb.cnt[i] = pb.scratch[k] + 2
				k++
			} else {
				pb.cnt[i] = 1
			}
		}
		if n%8 != 0 && flags[nf-1]>>(n%8) != 0 {
			return pb.fail("stray count flags")
		}
	}
	lg := ix.rangeLog
	var f, db uint32
	for i := 0; i < n; i++ {
		c := pb.cnt[i]
		if c > uint32(R) {
			return pb.fail("pair count %d above the range size", c)
		}
		pb.first[i], pb.dbit[i] = f, db
		f += c
		db += uint32(docBits(int(c), lg, R))
	}
	pb.first[n], pb.dbit[n] = f, db
	nd := int(db+7) / 8
	if len(src) < nd {
		return pb.fail("short docs stream")
	}
	pb.docs, src = src[:nd], src[nd:]
	pb.chunks = pb.chunks[:0]
	switch ix.q {
	case QuantU8:
		no := int(f) - n
		if no == 0 {
			if len(src) != 0 {
				return pb.fail("trailing bytes")
			}
			pb.imps = nil
			break
		}
		if len(src) < 1 {
			return pb.fail("short impacts")
		}
		pb.imps = src
		off := 1
		for lo := 0; lo < no; lo += othersChunk {
			sz := pforSize(src[off:], min(othersChunk, no-lo))
			if sz < 0 {
				return pb.fail("malformed impacts")
			}
			pb.chunks = append(pb.chunks, off)
			off += sz
		}
		if off != len(src) {
			return pb.fail("impacts stream size")
		}
	default:
		if len(src) != int(f)*ix.q.width() {
			return pb.fail("impacts stream size")
		}
		pb.imps = src
	}
	return nil
}

// decodePostings decodes every posting of the block into pb.local and
// pb.level, in pair order with each pair's maximum first.
func (pb *pairBlock) decodePostings() error {
	total := int(pb.first[pb.n])
	pb.local = slices.Grow(pb.local[:0], total)[:total]
	pb.level = slices.Grow(pb.level[:0], total)[:total]
	if err := pb.decodeDocs(0, pb.n); err != nil {
		return err
	}
	switch pb.ix.q {
	case QuantU8:
		no := total - pb.n
		others := slices.Grow(pb.obuf[:0], no)[:no]
		pb.obuf = others
		if no > 0 {
			base := uint32(pb.imps[0])
			for k, off := range pb.chunks {
				lo := k * othersChunk
				m := min(othersChunk, no-lo)
				if decodePFor(others[lo:lo+m], pb.imps[off:], pb.scratch[:m]) < 0 {
					return pb.fail("malformed impacts")
				}
			}
			for i := range others {
				others[i] += base
			}
		}
		o := 0
		for i := 0; i < pb.n; i++ {
			c := int(pb.cnt[i]) - 1
			f := int(pb.first[i])
			m := pb.maxv[i]
			pb.level[f] = m
			for k, v := range others[o : o+c] {
				if v == 0 || v > m {
					return pb.fail("impact out of range")
				}
				pb.level[f+1+k] = v
			}
			o += c
		}
	case QuantF16:
		for i := range total {
			pb.level[i] = uint32(binary.LittleEndian.Uint16(pb.imps[2*i:]))
		}
		return pb.checkFloat(0, pb.n)
	default:
		for i := range total {
			pb.level[i] = binary.LittleEndian.Uint32(pb.imps[4*i:])
		}
		return pb.checkFloat(0, pb.n)
	}
	return nil
}

// checkFloat verifies that float impacts of pairs [lo, hi) are positive,
// finite, the first of each pair the largest and within its bound.
func (pb *pairBlock) checkFloat(lo, hi int) error {
	rs := pb.ix.Meta.RangeScale
	for i := lo; i < hi; i++ {
		f := pb.first[i]
		m := impactValue(pb.ix.q, pb.level[f])
		if !(m > 0) || math.IsInf(float64(m), 0) || float64(m) > float64(pb.maxv[i])*rs {
			return pb.fail("impact out of range")
		}
		for _, raw := range pb.level[f+1 : f+pb.cnt[i]] {
			if v := impactValue(pb.ix.q, raw); !(v > 0) || v > m {
				return pb.fail("impact above its pair's maximum")
			}
		}
	}
	return nil
}

// decodeDocs decodes the local documents of pairs [lo, hi) into pb.local
// (at their posting positions), checking each against the range length.
func (pb *pairBlock) decodeDocs(lo, hi int) error {
	lg := pb.ix.rangeLog
	R := pb.ix.Meta.RangeSize
	for i := lo; i < hi; i++ {
		bit := int(pb.dbit[i])
		c := int(pb.cnt[i])
		f := int(pb.first[i])
		rlen := pb.ix.RangeLen(pb.rng[i])
		out := pb.local[f : f+c]
		if c*lg <= lg+R {
			prev := -1
			for k := 0; k < c; k++ {
				v := int(readBits(pb.docs, bit, lg))
				bit += lg
				if v >= rlen || (k > 1 && v <= prev) {
					return pb.fail("document out of order or range")
				}
				if k > 0 {
					if v == int(out[0]) {
						return pb.fail("repeated document")
					}
					prev = v
				}
				out[k] = uint8(v)
			}
			continue
		}
		arg := int(readBits(pb.docs, bit, lg))
		bit += lg
		mask := readWide(pb.docs, bit, R)
		if bits.OnesCount64(mask) != c || mask>>arg&1 == 0 || (rlen < 64 && mask>>rlen != 0) {
			return pb.fail("document mask")
		}
		out[0] = uint8(arg)
		k := 1
		for m := mask &^ (1 << arg); m != 0; m &= m - 1 {
			out[k] = uint8(bits.TrailingZeros64(m))
			k++
		}
	}
	return nil
}

// readWide reads up to 64 bits.
func readWide(src []byte, bit, width int) uint64 {
	if width <= 32 {
		return readBits(src, bit, width)
	}
	return readBits(src, bit, 32) | readBits(src, bit+32, width-32)<<32
}

// pairPostings decodes the postings of pair i alone (local documents into
// pb.local, impacts into pb.level, at the pair's posting positions).
func (pb *pairBlock) pairPostings(i int) error {
	total := int(pb.first[pb.n])
	if len(pb.local) < total {
		pb.local = slices.Grow(pb.local[:0], total)[:total]
		pb.level = slices.Grow(pb.level[:0], total)[:total]
	}
	if err := pb.decodeDocs(i, i+1); err != nil {
		return err
	}
	f, c := int(pb.first[i]), int(pb.cnt[i])
	switch pb.ix.q {
	case QuantU8:
		pb.level[f] = pb.maxv[i]
		o := f - i // others before pair i
		no := total - pb.n
		base := uint32(0)
		if no > 0 {
			base = uint32(pb.imps[0])
		}
		for k := 1; k < c; k++ {
			x := o + k - 1
			ch := x / othersChunk
			m := min(othersChunk, no-ch*othersChunk)
			v := pforAt(pb.imps[pb.chunks[ch]:], m, x%othersChunk) + base
			if v == 0 || v > pb.maxv[i] {
				return pb.fail("impact out of range")
			}
			pb.level[f+k] = v
		}
	case QuantF16:
		for k := f; k < f+c; k++ {
			pb.level[k] = uint32(binary.LittleEndian.Uint16(pb.imps[2*k:]))
		}
		return pb.checkFloat(i, i+1)
	default:
		for k := f; k < f+c; k++ {
			pb.level[k] = binary.LittleEndian.Uint32(pb.imps[4*k:])
		}
		return pb.checkFloat(i, i+1)
	}
	return nil
}
