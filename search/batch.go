package search

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"github.com/splade-go/splade/sparse"
)

func slicesSortFunc(es []entry) {
	slices.SortFunc(es, func(a, b entry) int {
		switch {
		case worse(b, a):
			return -1
		case worse(a, b):
			return 1
		}
		return 0
	})
}

// SearchBatch runs the queries on threads goroutines (GOMAXPROCS when
// threads <= 0), one query per worker at a time, and returns the hits in
// query order. done, when not nil, is called once per finished query (from
// the workers, concurrently). The first error stops the batch and names the
// query.
func (s *Searcher) SearchBatch(queries []sparse.Record, opt Options, threads int, done func()) ([][]Hit, error) {
	if err := s.validate(&opt); err != nil {
		return nil, err
	}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, max(1, len(queries)))
	results := make([][]Hit, len(queries))
	errs := make([]error, len(queries))
	var (
		next   int
		mu     sync.Mutex
		failed bool
		wg     sync.WaitGroup
	)
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := s.pool.Get().(*scratch)
			defer s.pool.Put(sc)
			for {
				mu.Lock()
				i := next
				next++
				stop := failed
				mu.Unlock()
				if stop || i >= len(queries) {
					return
				}
				q, err := s.Resolve(queries[i].Vector)
				var hits []Hit
				if err == nil {
					hits, err = s.run(sc, q, opt)
				}
				if err != nil {
					errs[i] = fmt.Errorf("query %q: %w", queries[i].ID, err)
					mu.Lock()
					failed = true
					mu.Unlock()
					continue
				}
				results[i] = hits
				if done != nil {
					done()
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}

// WriteTREC writes hits as TREC run lines "qid Q0 docid rank score tag",
// rank from 1.
func WriteTREC(w io.Writer, qid string, hits []Hit, tag string) error {
	bw := bufio.NewWriter(w)
	var b []byte
	for i, h := range hits {
		b = b[:0]
		b = append(b, qid...)
		b = append(b, " Q0 "...)
		b = append(b, h.ID...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, h.Score, 'f', 6, 64)
		b = append(b, ' ')
		b = append(b, tag...)
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}
