package index

import (
	"math"
	"math/bits"
)

// Entropy holds, per stream of the postings, a lower bound on the bits any
// coder that models each term's values independently (order 0, one static
// table per term, the tables themselves free) needs for this index's
// content in this layout: the empirical entropy of each term's values.
// Comparing it with Sizes shows how far the codecs are from what such
// coding could save; their sum bounds the bits per posting of the layout
// from below.
type Entropy struct {
	Postings, Pairs int64
	// Bits in all, by stream:
	Gaps    float64 // sparse terms: the entropy of a gap's bit length, plus the bits below its leading one
	Maxima  float64 // sparse terms: pair maxima
	Counts  float64 // postings per pair
	Docs    float64 // per pair log2 C(RangeSize, count) + log2 count: the set of its documents and which holds the maximum
	Impacts float64 // u8: the non-maximum impact levels (0 for f16/f32)
	// Stored as they are, not estimated: dense terms' maxima and rank
	// directories, and the block directory.
	Dense, Directory float64
}

// Total returns the sum of the streams, in bits.
func (e Entropy) Total() float64 {
	return e.Gaps + e.Maxima + e.Counts + e.Docs + e.Impacts + e.Dense + e.Directory
}

// histogram counts values, keeping the distinct ones for a quick reset.
type histogram struct {
	n    map[uint32]int64
	keys []uint32
}

func (h *histogram) add(v uint32) {
	if h.n == nil {
		h.n = map[uint32]int64{}
	}
	if h.n[v] == 0 {
		h.keys = append(h.keys, v)
	}
	h.n[v]++
}

// bits returns the order-0 entropy of the values in bits (sum of
// -log2 p(v) over them) and empties h.
func (h *histogram) bits() float64 {
	var total int64
	for _, k := range h.keys {
		total += h.n[k]
	}
	var b float64
	for _, k := range h.keys {
		c := h.n[k]
		b += float64(c) * math.Log2(float64(total)/float64(c))
		delete(h.n, k)
	}
	h.keys = h.keys[:0]
	return b
}

// Entropy decodes every block of the index and measures its streams'
// entropy (see type Entropy). It reads the whole index: seconds per
// hundred million postings.
func (ix *Index) Entropy() (Entropy, error) {
	var e Entropy
	R := ix.Meta.RangeSize
	var pb pairBlock
	var gaps, maxima, counts, imps histogram
	lgC := make([]float64, R+1) // log2 C(R, c) + log2 c
	for c := 1; c <= R; c++ {
		a, _ := math.Lgamma(float64(R + 1))
		b, _ := math.Lgamma(float64(c + 1))
		d, _ := math.Lgamma(float64(R - c + 1))
		lgC[c] = (a-b-d)/math.Ln2 + math.Log2(float64(c))
	}
	e.Directory = 64 * float64(ix.Meta.Blocks)
	for t := range ix.terms {
		ti := &ix.terms[t]
		if ti.pairs == 0 {
			continue
		}
		sparse := ti.layout == layoutSparse
		if !sparse {
			e.Dense += 8 * float64(ix.Meta.Ranges+4*rankEntries(ix.Meta.Ranges))
		}
		prev := int64(-1)
		for bi := 0; bi < ti.blocks; bi++ {
			if err := pb.decodeRanges(ix, ti, bi); err != nil {
				return e, ix.wrap(err)
			}
			if err := pb.decodeCounts(); err != nil {
				return e, ix.wrap(err)
			}
			if err := pb.decodeAll(); err != nil {
				return e, ix.wrap(err)
			}
			o := 0
			for i := 0; i < pb.n; i++ {
				c := pb.cnt[i]
				e.Pairs++
				e.Postings += int64(c)
				counts.add(c)
				e.Docs += lgC[c]
				if sparse {
					g := uint32(int64(pb.rng[i]) - prev - 1)
					l := bits.Len32(g)
					gaps.add(uint32(l))
					e.Gaps += float64(max(l-1, 0))
					maxima.add(pb.maxv[i])
				}
				prev = int64(pb.rng[i])
				if ix.q == QuantU8 {
					for _, v := range pb.others[o : o+int(c)-1] {
						imps.add(v + pb.base)
					}
					o += int(c) - 1
				}
			}
		}
		e.Gaps += gaps.bits()
		e.Maxima += maxima.bits()
		e.Counts += counts.bits()
		e.Impacts += imps.bits()
	}
	return e, nil
}
