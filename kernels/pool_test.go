package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolFor checks that For calls fn on disjoint contiguous chunks that
// cover [0, n) exactly once, at least grain items each (but the last), and
// with boundaries that do not depend on which worker ran a chunk.
func TestPoolFor(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		for _, n := range []int{0, 1, 2, 7, 16, 100, 1000, 30522} {
			for _, grain := range []int{0, 1, 3, 16, 5000} {
				t.Run(fmt.Sprintf("t%d_n%d_g%d", threads, n, grain), func(t *testing.T) {
					var mu sync.Mutex
					var chunks [][2]int
					seen := make([]int, n)
					NewPool(threads).For(n, grain, func(lo, hi int) {
						mu.Lock()
						defer mu.Unlock()
						chunks = append(chunks, [2]int{lo, hi})
						for i := lo; i < hi; i++ {
							seen[i]++
						}
					})
					for i, c := range seen {
						if c != 1 {
							t.Fatalf("item %d visited %d times", i, c)
						}
					}
					g := max(grain, 1)
					for _, c := range chunks {
						if c[1] < c[0] || (c[1]-c[0] < g && c[1] != n) {
							t.Fatalf("chunk [%d, %d) is smaller than the grain %d", c[0], c[1], g)
						}
					}
					if len(chunks) > max(1, chunksPerWorker*threads) {
						t.Fatalf("%d chunks for %d workers", len(chunks), threads)
					}
				})
			}
		}
	}
}

// TestPoolConcurrentAndNested runs loops on one pool from several
// goroutines at once, some of them nested inside another loop's chunks:
// every loop must still cover its items exactly once and return.
func TestPoolConcurrentAndNested(t *testing.T) {
	pool := NewPool(3)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := 0; it < 200; it++ {
				n := 1 + (g*31+it*7)%300
				counts := make([]atomic.Int32, n)
				pool.For(n, 1+it%5, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						counts[i].Add(1)
					}
					if it%10 == 0 { // nested loop inside a chunk
						inner := make([]atomic.Int32, 50)
						pool.For(50, 2, func(lo, hi int) {
							for i := lo; i < hi; i++ {
								inner[i].Add(1)
							}
						})
						for i := range inner {
							if c := inner[i].Load(); c != 1 {
								t.Errorf("nested item %d visited %d times", i, c)
							}
						}
					}
				})
				for i := range counts {
					if c := counts[i].Load(); c != 1 {
						t.Errorf("goroutine %d loop %d: item %d visited %d times", g, it, i, c)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestPoolWorkersStop checks that an unreachable pool's workers exit,
// pinned ones (see Pool.Pin) included.
func TestPoolWorkersStop(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		pool := NewPool(4)
		pool.For(100, 1, func(lo, hi int) {})
		pinned := NewPool(2)
		unpin := pinned.Pin()
		pinned.For(100, 1, func(lo, hi int) { time.Sleep(10 * time.Microsecond) })
		unpin()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before the pool", runtime.NumGoroutine(), before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
