package synth

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"sync"

	"github.com/splade-go/splade/sparse"
)

// Scored is a document of the collection and its exact score for a query.
type Scored struct {
	Doc   int
	Score float64
}

// TopK returns, for each query, the k documents with the largest exact dot
// products (float64 sums of the float32 weights' products), best first, ties
// broken by the smaller document number. It is the ranking that an index's
// quantized impacts approximate, computed without an index: every document
// is generated once (on threads goroutines) and scored against all queries
// through per-term lists of the queries holding the term. Query terms
// outside the vocabulary are an error.
func (g *Generator) TopK(queries []sparse.Vector, k, threads int) ([][]Scored, error) {
	if k < 1 {
		return nil, fmt.Errorf("k = %d, want >= 1", k)
	}
	byName := make(map[string]int32, len(g.names))
	for id, name := range g.names {
		byName[name] = int32(id)
	}
	type qw struct {
		q int32
		w float64
	}
	lists := make([][]qw, len(g.names)) // term -> the queries holding it
	for qi, q := range queries {
		for j, t := range q.Terms {
			id, ok := byName[t]
			if !ok {
				return nil, fmt.Errorf("query %d: term %q is not in the synthetic vocabulary", qi, t)
			}
			lists[id] = append(lists[id], qw{int32(qi), float64(q.Weights[j])})
		}
	}
	threads = max(1, threads)
	tops := make([][]topHeap, threads) // per worker, per query
	var wg sync.WaitGroup
	for w := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acc := make([]float64, len(queries))
			seen := make([]int, len(queries)) // 1 + the last document that touched the query
			var touched []int32
			hs := make([]topHeap, len(queries))
			for d := w; d < g.o.Docs; d += threads {
				for _, e := range g.doc(d).entries {
					for _, x := range lists[e.id] {
						if seen[x.q] != d+1 {
							seen[x.q] = d + 1
							touched = append(touched, x.q)
						}
						acc[x.q] += x.w * float64(e.w)
					}
				}
				for _, q := range touched {
					if acc[q] > 0 { // as an index, which holds no zero score
						hs[q].offer(Scored{d, acc[q]}, k)
					}
					acc[q] = 0
				}
				touched = touched[:0]
			}
			tops[w] = hs
		}()
	}
	wg.Wait()
	out := make([][]Scored, len(queries))
	for q := range queries {
		var all []Scored
		for w := range tops {
			all = append(all, tops[w][q]...)
		}
		slices.SortFunc(all, better)
		out[q] = all[:min(k, len(all))]
	}
	return out, nil
}

// better orders by score, then document number: negative when a ranks
// before b.
func better(a, b Scored) int {
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	return cmp.Compare(a.Doc, b.Doc)
}

// topHeap keeps the k best documents seen, the worst at the root.
type topHeap []Scored

func (h topHeap) Len() int           { return len(h) }
func (h topHeap) Less(i, j int) bool { return better(h[i], h[j]) > 0 }
func (h topHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topHeap) Push(x any)        { *h = append(*h, x.(Scored)) }
func (h *topHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (h *topHeap) offer(s Scored, k int) {
	switch {
	case len(*h) < k:
		heap.Push(h, s)
	case better(s, (*h)[0]) < 0:
		(*h)[0] = s
		heap.Fix(h, 0)
	}
}
