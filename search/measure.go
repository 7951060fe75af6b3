package search

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/splade-go/splade/internal/cputime"
	"github.com/splade-go/splade/sparse"
)

// Timing is the outcome of Measure.
type Timing struct {
	Hits      [][]Hit
	Latencies []time.Duration // per query, in query order
	// CPU is the CPU time of each query's thread (Linux; zero elsewhere):
	// its own work, without the time other processes held the core.
	CPU  []time.Duration
	Wall time.Duration // whole batch
	// Resolve is the time Resolve took for all the queries, before the
	// timed runs: processors take term ids, as PISA's and Seismic's do.
	Resolve time.Duration
}

// CPUMean returns the mean CPU time per query.
func (t Timing) CPUMean() time.Duration { return mean(t.CPU) }

// CPUPercentile returns the p-quantile CPU time per query.
func (t Timing) CPUPercentile(p float64) time.Duration { return percentile(t.CPU, p) }

// Mean returns the mean latency.
func (t Timing) Mean() time.Duration { return mean(t.Latencies) }

func mean(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, l := range ds {
		s += l
	}
	return s / time.Duration(max(1, len(ds)))
}

// Percentile returns the p-quantile latency (nearest rank), 0 < p <= 1.
func (t Timing) Percentile(p float64) time.Duration { return percentile(t.Latencies, p) }

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// QPS returns queries per second over the batch.
func (t Timing) QPS() float64 {
	return float64(len(t.Latencies)) / t.Wall.Seconds()
}

// Measure runs the queries like SearchBatch and records each query's
// latency; it is what splade bench-search reports.
func (s *Searcher) Measure(queries []sparse.Record, opt Options, threads int) (Timing, error) {
	if err := s.validate(&opt); err != nil {
		return Timing{}, err
	}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	t := Timing{Hits: make([][]Hit, len(queries)), Latencies: make([]time.Duration, len(queries)), CPU: make([]time.Duration, len(queries))}
	qs := make([]Query, len(queries))
	r0 := time.Now()
	for i, r := range queries {
		var err error
		if qs[i], err = s.Resolve(r.Vector); err != nil {
			return Timing{}, fmt.Errorf("query %q: %w", r.ID, err)
		}
	}
	t.Resolve = time.Since(r0)
	errs := make([]error, len(queries))
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// one OS thread per worker, so that its CPU clock is the query's
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			sc := s.pool.Get().(*scratch)
			defer s.pool.Put(sc)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(queries) {
					return
				}
				c0, q0 := cputime.ThreadNanos(), time.Now()
				t.Hits[i], errs[i] = s.run(sc, qs[i], opt)
				t.Latencies[i] = time.Since(q0)
				t.CPU[i] = time.Duration(cputime.ThreadNanos() - c0)
			}
		}()
	}
	wg.Wait()
	t.Wall = time.Since(start)
	for _, err := range errs {
		if err != nil {
			return Timing{}, err
		}
	}
	return t, nil
}
