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
//	counts   bit stream, per pair: count - 1 one bits then a zero when
//	         count < M = floor((L + RangeSize)/L) + 1 (L = log2 RangeSize),
//	         else M - 1 one bits (the count is then the popcount of the
//	         pair's document mask)
//	docs     bit stream, per pair: if count < M the local document
//	         (doc - range x RangeSize) of the maximum posting then those
//	         of the others, increasing, L bits each; else the maximum's
//	         local document (L bits) and a RangeSize-bit mask of all the
//	         pair's documents
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
	bw     bitWriter
	blocks [][]byte // encoded blocks (sparse form)
	common [][]byte // counts, docs and impacts of each block
}

// encodedTerm is a term ready to be written.
type encodedTerm struct {
	layout   uint8
	blockLog uint8
	pairs    int
	data     []byte   // dense extras then blocks
	dir      []uint32 // (last range, offset) per block
	sizes    Sizes
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
		e.common = append(e.common, e.appendCommon(nil, ps, docs, raws, &out.sizes))
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

// maskCount is the smallest posting count of a pair whose documents are
// a mask: c x L > L + RangeSize (L = log2 RangeSize).
func maskCount(lg, rangeSize int) int { return (lg+rangeSize)/lg + 1 }

// appendCounts appends the counts stream of a block: per pair, below
// maskCount, count - 1 one bits and a zero bit; from maskCount on,
// maskCount - 1 one bits, the count being the popcount of the pair's
// document mask.
func (e *termEncoder) appendCounts(dst []byte, ps []pairInfo) []byte {
	e.bw.buf = dst
	mc := maskCount(e.lg, e.rangeSize)
	for _, p := range ps {
		if p.c >= mc {
			e.bw.write(1<<(mc-1)-1, mc-1)
		} else {
			e.bw.write(1<<(p.c-1)-1, p.c)
		}
	}
	dst = e.bw.flush()
	e.bw.buf = nil
	return dst
}

// appendCommon appends the counts, docs and impacts streams of a block.
func (e *termEncoder) appendCommon(dst []byte, ps []pairInfo, docs, raws []uint32, sz *Sizes) []byte {
	n0 := len(dst)
	dst = e.appendCounts(dst, ps)
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

// pairBlock is one decoded block of a term's pairs, decoded in stages:
// decodeRanges (ranges and maxima: all that range bounds need),
// decodeCounts (the pairs' posting counts, locating the docs and impacts
// streams), then decodeAll (every posting) or decodePair (one pair's).
// Every stage checks what it reads, so corrupted bytes give an error, not
// a panic or an out-of-range document.
type pairBlock struct {
	ix   *Index
	ti   *termInfo
	bi   int
	n    int
	rng  [maxBlockPairs]uint32
	maxv [maxBlockPairs]uint32 // u8: the maximum level; f16/f32: the bound level
	rest []byte                // the block after its ranges and maxima

	cnt   [maxBlockPairs]uint32
	first [maxBlockPairs + 1]uint32 // postings before each pair
	dbit  [maxBlockPairs + 1]uint32 // bit offset of each pair's docs field

	docs   []byte // docs stream
	imps   []byte // impacts stream
	base   uint32 // u8: level base of the non-maximum impacts
	chunks []int  // u8: byte offset of each PFor chunk in imps

	// decoded postings in pair order, each pair's maximum first: local
	// documents; u8 impacts of the non-maximum postings (pair i's at
	// others[first[i]-i:]); f16/f32 impacts of every posting (raw bits)
	local  []uint8
	others []uint32
	level  []uint32

	scratch [maxBlockPairs]uint32

	// a block whose counts come from a bound view (viewCounts): the
	// counts, and how many pairs' offsets are summed
	lazy   []uint8
	lazyTo int
}

func (pb *pairBlock) fail(format string, args ...any) error {
	return fmt.Errorf("%w: term %d block %d: %s", errCorrupt, pb.ti.id, pb.bi, fmt.Sprintf(format, args...))
}

// point sets pb to block bi of term ti (its pair count included) and
// returns the block's byte range in postings.bin.
func (pb *pairBlock) point(ix *Index, ti *termInfo, bi int) (lo, hi uint64) {
	pb.ix, pb.ti, pb.bi = ix, ti, bi
	B := 1 << ti.blockLog
	pb.n = min(B, ti.pairs-bi*B)
	return ti.blockSpan(ix, bi)
}

// decodeRanges decodes the ranges and maxima of block bi of term ti.
func (pb *pairBlock) decodeRanges(ix *Index, ti *termInfo, bi int) error {
	lo, hiOff := pb.point(ix, ti, bi)
	n := pb.n
	src := ix.postings[lo:hiOff]
	nr := uint32(ix.Meta.Ranges)
	if ti.layout == layoutDense {
		// the block's ranges are the present ranges of rank [bi*B, bi*B+n)
		maxima := ti.denseMaxima(ix)
		r, k := ti.dirStart(ix, bi), 0
		for ; k < n && r < nr; r++ {
			if m := maxima[r]; m != 0 {
				pb.rng[k], pb.maxv[k] = r, uint32(m)
				k++
			}
		}
		if k < n || pb.rng[n-1] != ti.dirLast(ix, bi) {
			return pb.fail("dense ranges do not match the directory")
		}
		pb.rest = src
		return nil
	}
	return pb.sparseRanges(src, pb.rng[:n], pb.maxv[:n], nil, 0)
}

// sparseRanges decodes the ranges and maxima of pb's block (ix, ti, bi and
// n set; src its bytes), of a sparse term, into rng and maxv (n entries:
// pb's arrays, or AddBounds' kept ones), checks them and sets pb.rest.
// With ub, it also adds W x maximum to ub[range]. One loop turns gaps into
// ranges, checks them and the maxima and adds the bounds: in AddBounds, a
// hot loop of exact Block-Max Pruning, separate passes measured 5-10%
// slower block-max at 1M.
func (pb *pairBlock) sparseRanges(src []byte, rng, maxv, ub []uint32, W uint32) error {
	ix, ti, bi, n := pb.ix, pb.ti, pb.bi, pb.n
	rng, maxv = rng[:n], maxv[:n]
	used := decodePFor(rng, src, pb.scratch[:n])
	if used < 0 {
		return pb.fail("malformed gaps")
	}
	if used >= len(src) {
		return pb.fail("short maxima")
	}
	base := uint32(src[used])
	mused := decodePFor(maxv, src[used+1:], pb.scratch[:n])
	if mused < 0 {
		return pb.fail("malformed maxima")
	}
	// p: the range after the previous pair's; in 64 bits, so that no gap
	// (up to 2^32 - 1) wraps it
	p := uint64(0)
	if bi > 0 {
		p = uint64(ti.dirLast(ix, bi-1)) + 1
	}
	nr := uint64(ix.Meta.Ranges)
	for i := range rng {
		r := p + uint64(rng[i])
		m := maxv[i] + base
		if r >= nr || m-1 > 254 { // past the last range; 0 or above 255
			return pb.fail("range or range maximum out of range")
		}
		if ub != nil {
			ub[r] += W * m
		}
		rng[i], maxv[i] = uint32(r), m
		p = r + 1
	}
	if uint32(p-1) != ti.dirLast(ix, bi) {
		return pb.fail("ranges do not end at the directory's last range")
	}
	pb.rest = src[used+1+mused:]
	return nil
}

// locate points pb at block bi of term ti without decoding its ranges and
// maxima, which the caller knows (from a dense term's maxima, or kept by
// AddBounds) and sets in pb.rng and pb.maxv for the pairs it decodes.
func (pb *pairBlock) locate(ix *Index, ti *termInfo, bi int) error {
	lo, hiOff := pb.point(ix, ti, bi)
	n := pb.n
	src := ix.postings[lo:hiOff]
	if ti.layout == layoutSparse {
		g := pforSize(src, n)
		if g < 0 || g >= len(src) {
			return pb.fail("malformed gaps")
		}
		m := pforSize(src[g+1:], n)
		if m < 0 {
			return pb.fail("malformed maxima")
		}
		src = src[g+1+m:]
	}
	pb.rest = src
	return nil
}

// decodeCounts decodes the posting counts of the block's pairs (after
// decodeRanges) and locates its docs and impacts streams.
func (pb *pairBlock) decodeCounts() error {
	n, src := pb.n, pb.rest
	ix := pb.ix
	R := ix.Meta.RangeSize
	lg := ix.rangeLog
	mc := maskCount(lg, R)
	nibble := uint32(lg)
	maskBits := uint32(lg + R)
	// Counts are a unary code per pair of at most mc-1 bits, read from a
	// 64-bit window that is shifted code by code and reloaded from memory
	// only when fewer than mc bits are left in it: the codes' chain of
	// dependent operations is a count and a shift, not a load. The docs
	// stream follows the counts stream, so a mask's popcount (the count of
	// a mask pair) is read once every code is.
	bit := 0
	var f, db uint32
	firstMask := -1
	var w uint64
	avail := 0 // bits of w read from src (past its end: zeros, caught below)
	for i := 0; i < n; i++ {
		if avail < mc {
			if off := bit >> 3; off+8 <= len(src) {
				w = binary.LittleEndian.Uint64(src[off:]) >> (bit & 7)
			} else {
				w = readBits64(src, bit)
			}
			avail = 56
		}
		ones := bits.TrailingZeros64(^w)
		pb.first[i], pb.dbit[i] = f, db
		if ones >= mc-1 {
			if firstMask < 0 {
				firstMask = i
			}
			pb.cnt[i] = 0
			w >>= mc - 1
			avail -= mc - 1
			bit += mc - 1
			db += maskBits
		} else {
			c := uint32(ones + 1)
			pb.cnt[i] = c
			w >>= c
			avail -= ones + 1
			bit += ones + 1
			db += c * nibble
			f += c
		}
	}
	nc := (bit + 7) / 8
	if len(src) < nc {
		return pb.fail("short counts stream")
	}
	src = src[nc:]
	if firstMask >= 0 {
		f = pb.first[firstMask]
		for i := firstMask; i < n; i++ {
			pb.first[i] = f
			c := pb.cnt[i]
			if c == 0 {
				db := int(pb.dbit[i])
				if db+lg+R > 8*len(src) {
					return pb.fail("short docs stream")
				}
				c = uint32(bits.OnesCount64(readWide(src, db+lg, R)))
				if c < uint32(mc) {
					return pb.fail("document mask of %d postings", c)
				}
				pb.cnt[i] = c
			}
			f += c
		}
	}
	pb.first[n], pb.dbit[n] = f, db
	nd := int(db+7) / 8
	if len(src) < nd {
		return pb.fail("short docs stream")
	}
	pb.docs, src = src[:nd], src[nd:]
	pb.chunks = pb.chunks[:0]
	if ix.q != QuantU8 {
		if len(src) != int(f)*ix.q.width() {
			return pb.fail("impacts stream size")
		}
		pb.imps = src
		return nil
	}
	no := int(f) - n
	if no == 0 {
		if len(src) != 0 {
			return pb.fail("trailing bytes")
		}
		pb.imps = nil
		return nil
	}
	if len(src) < 1 {
		return pb.fail("short impacts")
	}
	pb.imps, pb.base = src, uint32(src[0])
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
	return nil
}

// grow sizes the posting arrays for the block (after decodeCounts).
func (pb *pairBlock) grow() {
	total := int(pb.first[pb.n])
	if cap(pb.local) < total {
		pb.local = make([]uint8, total, 2*total)
	}
	pb.local = pb.local[:total]
	if pb.ix.q == QuantU8 {
		no := total - pb.n
		if cap(pb.others) < no {
			pb.others = make([]uint32, no, 2*no)
		}
		pb.others = pb.others[:no]
	} else {
		if cap(pb.level) < total {
			pb.level = make([]uint32, total, 2*total)
		}
		pb.level = pb.level[:total]
	}
}

// decodeAll decodes every posting of the block (after decodeCounts).
func (pb *pairBlock) decodeAll() error {
	pb.grow()
	if err := pb.decodeDocs(0, pb.n); err != nil {
		return err
	}
	if pb.ix.q != QuantU8 {
		return pb.decodeFloat(0, pb.n)
	}
	no := len(pb.others)
	for k, off := range pb.chunks {
		lo := k * othersChunk
		m := min(othersChunk, no-lo)
		if decodePFor(pb.others[lo:lo+m], pb.imps[off:], pb.scratch[:m]) < 0 {
			return pb.fail("malformed impacts")
		}
	}
	o, base := uint32(0), pb.base
	for i := 0; i < pb.n; i++ {
		if pb.cnt[i] > 1 && pb.maxv[i] < base {
			return pb.fail("impact above its range maximum")
		}
		m := pb.maxv[i] - base
		for _, v := range pb.others[o : o+pb.cnt[i]-1] {
			if v > m {
				return pb.fail("impact above its range maximum")
			}
		}
		o += pb.cnt[i] - 1
	}
	if base == 0 {
		for _, v := range pb.others {
			if v == 0 {
				return pb.fail("zero impact")
			}
		}
	}
	return nil
}

// decodePair decodes the postings of pair i alone (after decodeCounts and
// grow): its local documents and impacts, at their usual positions.
func (pb *pairBlock) decodePair(i int) error {
	if err := pb.decodeDocs(i, i+1); err != nil {
		return err
	}
	if pb.ix.q != QuantU8 {
		return pb.decodeFloat(i, i+1)
	}
	no := len(pb.others)
	o := int(pb.first[i]) - i
	for x := o; x < o+int(pb.cnt[i])-1; x++ {
		ch := x / othersChunk
		v := pforAt(pb.imps[pb.chunks[ch]:], min(othersChunk, no-ch*othersChunk), x%othersChunk) + pb.base
		if v-1 >= pb.maxv[i] { // 0 or above the maximum
			return pb.fail("impact out of range")
		}
		pb.others[x] = v - pb.base
	}
	return nil
}

// impact returns the impact level (u8) or raw bits (f16/f32) of posting
// f+k, the k-th of pair i (f = first[i]).
func (pb *pairBlock) impact(i int, k uint32) uint32 {
	f := pb.first[i]
	if pb.ix.q != QuantU8 {
		return pb.level[f+k]
	}
	if k == 0 {
		return pb.maxv[i]
	}
	return pb.others[f-uint32(i)+k-1] + pb.base
}

// decodeFloat reads the f16/f32 impacts of pairs [lo, hi) and checks that
// they are positive, finite, the first of each pair the largest and within
// its bound.
func (pb *pairBlock) decodeFloat(lo, hi int) error {
	rs := pb.ix.Meta.RangeScale
	q := pb.ix.q
	for i := lo; i < hi; i++ {
		f, e := pb.first[i], pb.first[i+1]
		for k := f; k < e; k++ {
			if q == QuantF16 {
				pb.level[k] = uint32(binary.LittleEndian.Uint16(pb.imps[2*k:]))
			} else {
				pb.level[k] = binary.LittleEndian.Uint32(pb.imps[4*k:])
			}
		}
		m := impactValue(q, pb.level[f])
		if !(m > 0) || math.IsInf(float64(m), 0) || float64(m) > float64(pb.maxv[i])*rs {
			return pb.fail("impact out of range")
		}
		for _, raw := range pb.level[f+1 : e] {
			if v := impactValue(q, raw); !(v > 0) || v > m {
				return pb.fail("impact above its pair's maximum")
			}
		}
	}
	return nil
}

// decodeDocs decodes the local documents of pairs [lo, hi) into pb.local
// at their posting positions. Only the last range of the collection can
// be shorter than RangeSize, so only its documents need a range check.
func (pb *pairBlock) decodeDocs(lo, hi int) error {
	lg := pb.ix.rangeLog
	R := pb.ix.Meta.RangeSize
	docs := pb.docs
	for i := lo; i < hi; i++ {
		c := int(pb.cnt[i])
		f := int(pb.first[i])
		out := pb.local[f : f+c]
		bit := int(pb.dbit[i])
		if c*lg <= lg+R {
			if lg == 4 {
				// RangeSize 16: every field is nibble-aligned
				p := bit >> 2
				for k := range out {
					out[k] = docs[p>>1] >> (uint(p&1) << 2) & 15
					p++
				}
			} else {
				for k := range out {
					out[k] = uint8(readBits(docs, bit, lg))
					bit += lg
				}
			}
			if !listOrdered(out) {
				return pb.fail("documents of a pair out of order")
			}
		} else {
			arg := uint(readBits(docs, bit, lg))
			mask := readWide(docs, bit+lg, R)
			if bits.OnesCount64(mask) != c || mask>>arg&1 == 0 {
				return pb.fail("document mask")
			}
			out[0] = uint8(arg)
			k := 1
			for m := mask &^ (1 << arg); m != 0; m &= m - 1 {
				out[k] = uint8(bits.TrailingZeros64(m))
				k++
			}
		}
		if rlen := pb.ix.RangeLen(pb.rng[i]); rlen < R {
			for _, v := range out {
				if int(v) >= rlen {
					return pb.fail("document beyond the collection")
				}
			}
		}
	}
	return nil
}

// listOrdered reports whether a pair's documents in list form are valid:
// the maximum's document first, then the others strictly increasing and
// none equal to the maximum's (the cursors merge the first into the others
// and would otherwise yield documents out of order or twice).
func listOrdered(d []uint8) bool {
	for k := 1; k < len(d); k++ {
		if d[k] == d[0] || (k > 1 && d[k] <= d[k-1]) {
			return false
		}
	}
	return true
}

// readBits64 returns the 64 bits at bit offset bit of src, zeros past the
// end.
func readBits64(src []byte, bit int) uint64 {
	return readBits(src, bit, 32) | readBits(src, bit+32, 32)<<32
}

// readWide reads up to 64 bits.
func readWide(src []byte, bit, width int) uint64 {
	if width <= 32 {
		return readBits(src, bit, width)
	}
	return readBits(src, bit, 32) | readBits(src, bit+32, width-32)<<32
}

// flatten decodes every posting of the block (after decodeCounts) into
// document ids and impacts in impact units, in pair order: the form
// term-at-a-time scoring and cursors consume. It returns the postings.
func (pb *pairBlock) flatten(docs []uint32, imps []float64) (int, error) {
	total := int(pb.first[pb.n])
	docs, imps = docs[:total], imps[:total]
	R := uint32(pb.ix.Meta.RangeSize)
	if pb.ix.q != QuantU8 {
		if err := pb.decodeAll(); err != nil {
			return 0, err
		}
		for i := 0; i < pb.n; i++ {
			base := pb.rng[i] * R
			f := pb.first[i]
			for k := f; k < pb.first[i+1]; k++ {
				docs[k] = base + uint32(pb.local[k])
				imps[k] = float64(pb.ix.impactOf(pb.impact(i, k-f)))
			}
		}
		return total, nil
	}
	// u8 impacts
	lg := pb.ix.rangeLog
	mc := maskCount(lg, int(R))
	no := total - pb.n
	if cap(pb.others) < no {
		pb.others = make([]uint32, no, 2*no)
	}
	others := pb.others[:no]
	for k, off := range pb.chunks {
		lo := k * othersChunk
		m := min(othersChunk, no-lo)
		if decodePFor(others[lo:lo+m], pb.imps[off:], pb.scratch[:m]) < 0 {
			return 0, pb.fail("malformed impacts")
		}
	}
	src := pb.docs
	obase := pb.base
	o := 0
	for i := 0; i < pb.n; i++ {
		c := int(pb.cnt[i])
		f := int(pb.first[i])
		base := pb.rng[i] * R
		m := pb.maxv[i]
		if c > 1 && m < obase {
			return 0, pb.fail("impact above its range maximum")
		}
		lim := m - obase
		d := docs[f : f+c]
		v := imps[f : f+c]
		ot := others[o : o+c-1]
		o += c - 1
		bit := int(pb.dbit[i])
		if c < mc {
			// Checked while decoding, as listOrdered does for the cursors:
			// the others increase (prev) and all c differ (seen).
			var seen uint64
			prev, ordered := -1, true
			// Two copies of the loop: one loop reading a nibble or a
			// general field per document was 2-4% slower on exhaustive
			// search at 1M (three alternating bench-search runs).
			if lg == 4 {
				// RangeSize 16: every docs field is nibble-aligned
				p := bit >> 2
				for k := range d {
					x := uint32(src[p>>1] >> (uint(p&1) << 2) & 15)
					p++
					if k > 0 {
						if int(x) <= prev {
							ordered = false
						}
						prev = int(x)
					}
					seen |= 1 << x
					d[k] = base + x
				}
			} else {
				for k := range d {
					x := uint32(readBits(src, bit, lg))
					bit += lg
					if k > 0 {
						if int(x) <= prev {
							ordered = false
						}
						prev = int(x)
					}
					seen |= 1 << x
					d[k] = base + x
				}
			}
			if !ordered || bits.OnesCount64(seen) != c {
				return 0, pb.fail("documents of a pair out of order")
			}
		} else {
			arg := uint(readBits(src, bit, lg))
			mask := readWide(src, bit+lg, int(R))
			if bits.OnesCount64(mask) != c || mask>>arg&1 == 0 {
				return 0, pb.fail("document mask")
			}
			d[0] = base + uint32(arg)
			k := 1
			for mm := mask &^ (1 << arg); mm != 0; mm &= mm - 1 {
				d[k] = base + uint32(bits.TrailingZeros64(mm))
				k++
			}
		}
		v[0] = float64(m)
		for k, x := range ot {
			if x > lim || x+obase == 0 {
				return 0, pb.fail("impact out of range")
			}
			v[k+1] = float64(x + obase)
		}
	}
	// only the last range of the collection can be shorter than R
	if last := pb.rng[pb.n-1]; pb.ix.RangeLen(last) < int(R) {
		for _, d := range docs[pb.first[pb.n-1]:] {
			if int(d) >= pb.ix.Meta.Docs {
				return 0, pb.fail("document beyond the collection")
			}
		}
	}
	return total, nil
}
