package search

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

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
	results := make([][]Hit, len(queries))
	err := s.parallel(len(queries), threads, func(sc *scratch, i int) error {
		q, err := s.Resolve(queries[i].Vector)
		if err == nil {
			results[i], err = s.run(sc, q, opt)
		}
		if err != nil {
			return fmt.Errorf("query %q: %w", queries[i].ID, err)
		}
		if done != nil {
			done()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// parallel calls work(sc, i) for i in [0, n) on threads goroutines
// (GOMAXPROCS when <= 0), each with its own scratch. The first error stops
// the workers from taking more; of the errors, the one of the smallest i
// is returned.
func (s *Searcher) parallel(n, threads int, work func(sc *scratch, i int) error) error {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		first  error
		firstI int
		wg     sync.WaitGroup
	)
	for w := 0; w < min(threads, max(1, n)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := s.pool.Get().(*scratch)
			defer s.pool.Put(sc)
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := work(sc, i); err != nil {
					mu.Lock()
					if first == nil || i < firstI {
						first, firstI = err, i
					}
					mu.Unlock()
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return first
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
