// Command sizebounds measures lower bounds on an index's size
// (BENCHMARKS.md, "Index size: what bounds it"). Two do not depend on the
// layout: the per-term order-0 entropy of all the stored impacts, and the
// bits of the document ids of every posting list taken as a random subset
// of the collection, sum over terms of log2 C(N, df). The third is what
// the index's own layout (pairs of a term and a range, index format 2)
// would take with context-modelled adaptive arithmetic coding, the
// strongest kind of entropy coding in practical use: each stream's values
// cost -log2 of their adaptive probability (counts + 1/2) under a model
// shared by all terms and conditioned on what a decoder already knows (the
// term's document frequency and largest impact, the previous pair's gap
// and count, the pair's count and the bit length of its maximum), the models' learning included
// and no table stored. Not used by the product or CI.
//
//	go run ./scripts/bench/sizebounds /tmp/idx1m /tmp/idx100k
//
// It prints, per index, the bounds in bits per posting.
package main

import (
	"fmt"
	"math"
	"math/bits"
	"os"

	"github.com/splade-go/splade/index"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sizebounds INDEX_DIR...")
		os.Exit(2)
	}
	for _, dir := range os.Args[1:] {
		if err := measure(dir); err != nil {
			fmt.Fprintln(os.Stderr, "sizebounds:", err)
			os.Exit(1)
		}
	}
}

func measure(dir string) error {
	ix, err := index.Open(dir)
	if err != nil {
		return err
	}
	defer ix.Close()
	n := float64(ix.NumDocs())
	var postings, impactBits, subsetBits float64
	var c index.Cursor
	hist := map[float32]int64{}
	cm := newContextCost(ix)
	var docs []uint32
	var imps []uint32
	for t := 0; t < ix.NumTerms(); t++ {
		docs, imps = docs[:0], imps[:0]
		for c.Open(ix, uint32(t)); c.Doc() != index.End && c.Err() == nil; c.Next() {
			hist[c.Impact()]++
			docs = append(docs, c.Doc())
			imps = append(imps, uint32(c.Impact()))
		}
		if err := c.Err(); err != nil {
			return err
		}
		df := len(docs)
		for v, k := range hist {
			impactBits += float64(k) * math.Log2(float64(df)/float64(k))
			delete(hist, v)
		}
		if df > 0 {
			subsetBits += log2Choose(n, float64(df))
			if ix.Quantization() == index.QuantU8 {
				cm.term(uint32(t), docs, imps)
			}
		}
		postings += float64(df)
	}
	fmt.Printf("%s\tpostings %.0f\timpacts %.3f bits/posting (per-term order-0 entropy)\tdocument ids %.3f bits/posting (random subsets)\n",
		dir, postings, impactBits/postings, subsetBits/postings)
	if ix.Quantization() != index.QuantU8 {
		return nil
	}
	e, err := ix.Entropy() // for the streams stored as they are
	if err != nil {
		return err
	}
	p := postings
	fmt.Printf("%s\tcontext-modelled adaptive coding of this layout: %.3f bits/posting (gaps %.3f  maxima %.3f  counts %.3f  docs %.3f  impacts %.3f; stored as is: dense maxima %.3f  directory %.3f)\n",
		dir, (cm.total()+e.Dense+e.Directory)/p, cm.gaps/p, cm.maxima/p, cm.counts/p, cm.docs/p, cm.impacts/p, e.Dense/p, e.Directory/p)
	return nil
}

// model is an adaptive frequency model per context over an alphabet of A
// symbols: a symbol costs -log2((count + 1/2) / (total + A/2)), then its
// count grows (the Krichevsky-Trofimov estimator).
type model struct {
	A     int
	count []float64 // by context x A + symbol
	total []float64 // by context
}

func newModel(contexts, A int) *model {
	return &model{A: A, count: make([]float64, contexts*A), total: make([]float64, contexts)}
}

func (m *model) cost(ctx, v int) float64 {
	i := ctx*m.A + v
	b := -math.Log2((m.count[i] + 0.5) / (m.total[ctx] + 0.5*float64(m.A)))
	m.count[i]++
	m.total[ctx]++
	return b
}

// contextCost codes the pairs of index format 2 (docs/index-format.md):
// per pair its range gap (sparse terms), posting count, maximum (sparse
// terms), documents and other impacts. Counts come before maxima here, so
// that a maximum is coded knowing its pair's count.
type contextCost struct {
	ix                                  *index.Index
	R                                   int
	lgC                                 []float64
	gapM, cntM, maxM, impM              *model
	gaps, counts, maxima, docs, impacts float64
}

const (
	dfClasses  = 33 // bit length of df
	maxClasses = 32 // term's largest impact / 8
	gapLens    = 33 // bit length of a gap
	prevGaps   = 13 // previous gap's bit length, capped at 12
	cntCtx     = 5  // count (or previous count) capped at 4
)

func newContextCost(ix *index.Index) *contextCost {
	R := ix.RangeSize()
	lgC := make([]float64, R+1) // log2 C(R, c) + log2 c: the documents, uniform
	for c := 1; c <= R; c++ {
		lgC[c] = log2Choose(float64(R), float64(c)) + math.Log2(float64(c))
	}
	return &contextCost{
		ix: ix, R: R, lgC: lgC,
		gapM: newModel(dfClasses*prevGaps, gapLens),
		cntM: newModel(dfClasses*cntCtx, R+1),
		maxM: newModel(dfClasses*maxClasses*cntCtx, 256),
		impM: newModel(dfClasses*maxClasses*9, 256),
	}
}

func (cc *contextCost) total() float64 {
	return cc.gaps + cc.counts + cc.maxima + cc.docs + cc.impacts
}

// term codes one term's postings (documents increasing, u8 levels).
func (cc *contextCost) term(t uint32, docs, imps []uint32) {
	dfc := bits.Len(uint(len(docs)))
	tm := min(int(cc.ix.MaxImpact(t))>>3, maxClasses-1)
	sparse := !cc.ix.Dense(t)
	prev, prevLen, prevCnt := -1, 0, 0
	for i := 0; i < len(docs); {
		r := int(docs[i]) / cc.R
		j := i
		m := uint32(0)
		for j < len(docs) && int(docs[j])/cc.R == r {
			m = max(m, imps[j])
			j++
		}
		cnt := j - i
		cc.counts += cc.cntM.cost(dfc*cntCtx+min(prevCnt, 4), cnt)
		prevCnt = cnt
		if sparse {
			l := bits.Len(uint(r - prev - 1))
			cc.gaps += cc.gapM.cost(dfc*prevGaps+prevLen, l) + float64(max(l-1, 0))
			prevLen = min(l, prevGaps-1)
			cc.maxima += cc.maxM.cost((dfc*maxClasses+tm)*cntCtx+min(cnt, 4), int(m))
		}
		prev = r
		cc.docs += cc.lgC[cnt]
		// the other postings' levels, knowing the bit length of the pair's
		// maximum (one posting holding it is the maximum's, coded above)
		skipped := false
		for k := i; k < j; k++ {
			if imps[k] == m && !skipped {
				skipped = true
				continue
			}
			cc.impacts += cc.impM.cost((dfc*maxClasses+tm)*9+bits.Len32(m), int(imps[k]))
		}
		i = j
	}
}

func log2Choose(n, k float64) float64 {
	a, _ := math.Lgamma(n + 1)
	b, _ := math.Lgamma(k + 1)
	c, _ := math.Lgamma(n - k + 1)
	return (a - b - c) / math.Ln2
}
