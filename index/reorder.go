package index

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Document reordering. Posting-list compression and Block-Max Pruning both
// gain when documents that share terms get nearby ids: gaps shrink, and a
// range of consecutive documents gets tight per-term maxima instead of
// the loose ones of a random mix (Mallia et al. report BMP to rely on it).
//
// The method is recursive graph bisection (Dhulipala et al., KDD 2016, as
// reproduced by Mackenzie et al., ECIR 2019): split the documents in two
// halves, then repeatedly swap the pairs of documents whose move lowers the
// estimated cost of encoding the gaps of both halves, sum over terms t of
// d_t log2(n/(d_t+1)) for a half of n documents of which d_t hold t; recurse
// into each half down to small leaves. To bound time and memory each
// document contributes only its bpTerms heaviest terms (which are also the
// ones that decide block-max upper bounds), and the initial order groups
// documents by their heaviest term.

const (
	bpTerms  = 32 // heaviest terms per document in the bisection graph
	bpLeaf   = 16 // stop splitting below this many documents
	bpIters  = 12 // swap rounds per split
	bpMinPar = 4096
)

// bpGraph is the document-term graph: document i's terms are
// terms[off[i]:off[i+1]] (builder-local term indexes).
type bpGraph struct {
	off   []uint64
	terms []uint32
}

func (g *bpGraph) add(terms []uint32) {
	if g.off == nil {
		g.off = []uint64{0}
	}
	g.terms = append(g.terms, terms...)
	g.off = append(g.off, uint64(len(g.terms)))
}

// reorder returns perm[old] = new for the documents of g over nTerms terms.
func reorder(g *bpGraph, topTerm []uint32, nTerms int) []uint32 {
	n := len(topTerm)
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortStableFunc(order, func(a, b uint32) int { return cmp.Compare(topTerm[a], topTerm[b]) })
	if len(g.off) == n+1 {
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		var wg sync.WaitGroup
		log2 := make([]float32, n+2)
		for i := 1; i < len(log2); i++ {
			log2[i] = float32(math.Log2(float64(i)))
		}
		bisect(g, order, newBPScratch(nTerms, log2), sem, &wg)
		wg.Wait()
	}
	perm := make([]uint32, n)
	for nw, old := range order {
		perm[old] = uint32(nw)
	}
	return perm
}

type bpScratch struct {
	log2       []float32 // log2[i] = log2(i), shared
	degL, degR []int32
	gainLR     []float32 // gain of moving a document holding t from left to right
	gainRL     []float32
	touched    []uint32
	gains      []float32
	idx        []int
	tmp        []uint32
}

func newBPScratch(nTerms int, log2 []float32) *bpScratch {
	return &bpScratch{log2: log2,
		degL: make([]int32, nTerms), degR: make([]int32, nTerms),
		gainLR: make([]float32, nTerms), gainRL: make([]float32, nTerms),
	}
}

// bpCost is the log-gap estimate of a term's postings in a part of
// log2(n) = logN: d log2(n/(d+1)).
func bpCost(d int32, logN float64, log2 []float32) float64 {
	if d <= 0 {
		return 0
	}
	return float64(d) * (logN - float64(log2[d+1]))
}

func bisect(g *bpGraph, docs []uint32, sc *bpScratch, sem chan struct{}, wg *sync.WaitGroup) {
	if len(docs) <= bpLeaf {
		return
	}
	h := len(docs) / 2
	left, right := docs[:h], docs[h:]
	nL, nR := math.Log2(float64(len(left))), math.Log2(float64(len(right)))
	for iter := 0; iter < bpIters; iter++ {
		// degrees
		sc.touched = sc.touched[:0]
		for side, part := range [2][]uint32{left, right} {
			deg := sc.degL
			if side == 1 {
				deg = sc.degR
			}
			for _, d := range part {
				for _, t := range g.terms[g.off[d]:g.off[d+1]] {
					if sc.degL[t] == 0 && sc.degR[t] == 0 {
						sc.touched = append(sc.touched, t)
					}
					deg[t]++
				}
			}
		}
		for _, t := range sc.touched {
			dl, dr := sc.degL[t], sc.degR[t]
			lg := sc.log2
			base := bpCost(dl, nL, lg) + bpCost(dr, nR, lg)
			sc.gainLR[t] = float32(base - bpCost(dl-1, nL, lg) - bpCost(dr+1, nR, lg))
			sc.gainRL[t] = float32(base - bpCost(dl+1, nL, lg) - bpCost(dr-1, nR, lg))
		}
		// document gains, then swap the best pairs
		sc.gains = slices.Grow(sc.gains[:0], len(docs))[:len(docs)]
		for i, d := range docs {
			gain := sc.gainLR
			if i >= h {
				gain = sc.gainRL
			}
			var s float32
			for _, t := range g.terms[g.off[d]:g.off[d+1]] {
				s += gain[t]
			}
			sc.gains[i] = s
		}
		sortByGain(left, sc.gains[:h], sc)
		sortByGain(right, sc.gains[h:], sc)
		swaps := 0
		for i := 0; i < len(left) && i < len(right); i++ {
			if sc.gains[i]+sc.gains[h+i] <= 0 {
				break
			}
			left[i], right[i] = right[i], left[i]
			swaps++
		}
		for _, t := range sc.touched {
			sc.degL[t], sc.degR[t] = 0, 0
		}
		if swaps == 0 {
			break
		}
	}
	// recurse; the left half in a new goroutine when large and a slot is free
	if len(left) >= bpMinPar {
		select {
		case sem <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				bisect(g, left, newBPScratch(len(sc.degL), sc.log2), sem, wg)
				<-sem
			}()
			bisect(g, right, sc, sem, wg)
			return
		default:
		}
	}
	bisect(g, left, sc, sem, wg)
	bisect(g, right, sc, sem, wg)
}

// sortByGain orders part (and its gains) by decreasing gain.
func sortByGain(part []uint32, gains []float32, sc *bpScratch) {
	sc.idx = slices.Grow(sc.idx[:0], len(part))[:len(part)]
	for i := range sc.idx {
		sc.idx[i] = i
	}
	slices.SortFunc(sc.idx, func(a, b int) int { return cmp.Compare(gains[b], gains[a]) })
	sc.tmp = append(sc.tmp[:0], part...)
	g2 := make([]float32, len(gains))
	copy(g2, gains)
	for i, j := range sc.idx {
		part[i] = sc.tmp[j]
		gains[i] = g2[j]
	}
}
