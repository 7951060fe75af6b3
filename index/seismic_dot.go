package index

import "unsafe"

// Scoring a document or a summary against a query is a sparse-dense dot
// product: per entry, one lookup of the query's dense weight by term. It is
// what Seismic search spends most of its time in (every document of a
// visited block is scored through the forward index), so on amd64 with
// AVX2 it gathers eight weights at a time (dotsAVX2 in seismic_amd64.s);
// the portable loop is the reference it is tested against
// (TestDotMatchesPortable, TestSummaryScores).

// DocScore returns the inner product of dense query weights qw (indexed by
// term, len >= the index's terms) and document d's impacts, in float32:
// an estimate for filtering, accurate to a relative ~1e-6; exact scores
// are the caller's float64 sum in its own order.
func (sm *Seismic) DocScore(d uint32, qw []float32) float32 {
	lo, hi := sm.span(d)
	return dot(qw, sm.fwdTerm[lo:hi], sm.fwdImp[lo:hi], sm.numTerms)
}

// SummaryScore returns the inner product of qw and block b's summary.
func (sm *Seismic) SummaryScore(b uint32, qw []float32) float32 {
	lo, hi := sm.sumOff[b], sm.sumOff[b+1]
	return dot(qw, sm.sumTerm[lo:hi], sm.sumVal[lo:hi], sm.numTerms)
}

// SummaryScores sets out[i] to SummaryScore(b0+i, qw) for the blocks
// [b0, b1) (len(out) >= b1-b0), the same sums up to float32 rounding. A
// term's blocks are scored this way at once: one call instead of one per
// block (~85 entries each), and the entries that do not fill 8 lanes
// gathered with a mask rather than added one by one.
func (sm *Seismic) SummaryScores(b0, b1 uint32, qw []float32, out []float32) {
	out = out[:b1-b0]
	rest := b0 // the first block left to the plain way
	if useDotAVX2 && len(qw) >= sm.numTerms {
		// the masked tail reads up to 8 entries past a block: the last
		// blocks of the arrays go the plain way
		rest = b1
		for rest > b0 && uint64(sm.sumOff[rest])+8 > uint64(len(sm.sumTerm)) {
			rest--
		}
		if rest > b0 {
			dotsAVX2(&qw[0], &sm.sumTerm[0], &sm.sumVal[0], &sm.sumOff[b0], int(rest-b0), &out[0])
		}
	}
	for b := rest; b < b1; b++ {
		out[b-b0] = sm.SummaryScore(b, qw)
	}
}

// dot is sum over i of qw[terms[i]] x vals[i]; every term is below nt.
// The vector path takes the entries that fill 8 lanes, as one span (with
// no entries to mask, its loads stay inside the slices); the rest, fewer
// than 8, are added one by one: for a single span that is cheaper than a
// masked gather (BenchmarkDot).
func dot(qw []float32, terms []uint16, vals []uint8, nt int) float32 {
	if m := len(terms) &^ 7; useDotAVX2 && len(qw) >= nt && m > 0 {
		vals = vals[:len(terms)]
		var s float32
		offs := [2]uint32{0, uint32(m)}
		dotsAVX2(&qw[0], &terms[0], &vals[0], &offs[0], 1, &s)
		return s + dotPortable(qw, terms[m:], vals[m:])
	}
	return dotPortable(qw, terms, vals)
}

func dotPortable(qw []float32, terms []uint16, vals []uint8) float32 {
	var s float32
	vals = vals[:len(terms)]
	for i, u := range terms {
		s += qw[u] * float32(vals[i])
	}
	return s
}

// PrefetchDocs asks the CPU to bring the forward entries of docs into its
// caches, so that scoring them next waits for their memory once, in
// parallel, rather than once per document.
func (sm *Seismic) PrefetchDocs(docs []uint32) {
	for _, d := range docs {
		lo, hi := sm.span(d)
		if lo == hi {
			continue
		}
		prefetchSpan((*byte)(unsafe.Pointer(&sm.fwdTerm[lo])), int(2*(hi-lo)))
		prefetchSpan(&sm.fwdImp[lo], int(hi-lo))
	}
}

// PrefetchBlock asks the CPU to bring block b's document ids into its
// caches.
func (sm *Seismic) PrefetchBlock(b uint32) {
	lo, hi := sm.blkOff[b], sm.blkOff[b+1]
	if lo < hi {
		prefetchSpan((*byte)(unsafe.Pointer(&sm.blkDocs[lo])), int(4*(hi-lo)))
	}
}

// PrefetchSummaries asks the CPU to bring the summaries of blocks
// [b0, b1) into its caches.
func (sm *Seismic) PrefetchSummaries(b0, b1 uint32) {
	lo, hi := sm.sumOff[b0], sm.sumOff[b1]
	if lo < hi {
		prefetchSpan((*byte)(unsafe.Pointer(&sm.sumTerm[lo])), int(2*(hi-lo)))
		prefetchSpan(&sm.sumVal[lo], int(hi-lo))
	}
}
