package search

import (
	"fmt"

	"github.com/splade-go/splade/index"
)

// BuildNeighbors computes the κ-NN graph of the index's Seismic structure
// (index.Seismic.WithNeighbors): for every document, the k other
// documents of largest inner product with it, found by searching with the
// document itself as the query in mode opt.Mode (Seismic search is
// approximate, so are the lists; a list short of k is padded with the
// document's own id). It runs on threads goroutines (GOMAXPROCS when
// <= 0); done, when not nil, is called once per document. Its cost is one
// search per document: at query cut 0.3 (what splade index uses), 7 s
// for 100k synthetic documents on two cores, 5.3 minutes for 1M
// (BENCHMARKS.md).
func (s *Searcher) BuildNeighbors(k int, opt Options, threads int, done func()) ([]uint32, error) {
	if k < 1 || k > index.MaxNeighbors {
		return nil, fmt.Errorf("neighbors: %d per document, want 1 to %d", k, index.MaxNeighbors)
	}
	sm, err := s.ix.Seismic()
	if err != nil {
		return nil, err
	}
	opt.K = k + 1 // the document finds itself first
	opt.Passages = true
	opt.Neighbors = -1
	if err := s.validate(&opt); err != nil {
		return nil, err
	}
	nd := s.ix.NumDocs()
	nbs := make([]uint32, nd*k)
	err = s.parallel(nd, threads, func(sc *scratch, d int) error {
		terms, imps := sm.Doc(uint32(d))
		q := Query{Terms: make([]uint32, len(terms)), Weights: make([]float32, len(terms))}
		for i, t := range terms {
			q.Terms[i], q.Weights[i] = uint32(t), float32(imps[i])
		}
		hits, err := s.run(sc, q, opt)
		if err != nil {
			return fmt.Errorf("neighbors of document %q: %w", s.ix.DocID(uint32(d)), err)
		}
		list := nbs[d*k : (d+1)*k]
		n := 0
		for _, h := range hits {
			if int(h.Doc) != d && n < k {
				list[n] = h.Doc
				n++
			}
		}
		for ; n < k; n++ {
			list[n] = uint32(d)
		}
		if done != nil {
			done()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return nbs, nil
}
