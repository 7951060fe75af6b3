package search

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

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
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	nd := s.ix.NumDocs()
	nbs := make([]uint32, nd*k)
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		errMu  sync.Mutex
		first  error
		failed atomic.Bool
	)
	for w := 0; w < min(threads, max(nd, 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := s.pool.Get().(*scratch)
			defer s.pool.Put(sc)
			var q Query
			for !failed.Load() {
				d := int(next.Add(1) - 1)
				if d >= nd {
					return
				}
				terms, imps := sm.Doc(uint32(d))
				q.Terms, q.Weights = q.Terms[:0], q.Weights[:0]
				for i, t := range terms {
					q.Terms = append(q.Terms, uint32(t))
					q.Weights = append(q.Weights, float32(imps[i]))
				}
				hits, err := s.run(sc, q, opt)
				if err != nil {
					errMu.Lock()
					if first == nil {
						first = fmt.Errorf("neighbors of document %q: %w", s.ix.DocID(uint32(d)), err)
					}
					errMu.Unlock()
					failed.Store(true)
					return
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
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return nbs, nil
}
