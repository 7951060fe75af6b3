package kernels

import (
	"fmt"
	"sync"
	"testing"
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
