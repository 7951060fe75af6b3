package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestPackA checks the blocked layout [block][l][mr] of packA, whose
// row-major fast paths (packRows8, its AVX transpose) serve every GEMM.
func TestPackA(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	forEachPath(t, func(t *testing.T) {
		for _, mr := range []int{4, 6, 8, 16} {
			for _, m := range []int{1, mr, 2*mr + 3} {
				for _, kb := range []int{1, 7, 8, 9, 16, 23} {
					rs := kb + 5
					a := randSlice(r, m*rs)
					mp := roundUp(m, mr)
					d := randSlice(r, mp*kb) // stale contents must be overwritten
					packA(d, a, m, kb, rs, 1, mr)
					for i := 0; i < mp; i++ {
						for l := 0; l < kb; l++ {
							want := float32(0)
							if i < m {
								want = a[i*rs+l]
							}
							if got := d[(i/mr)*mr*kb+l*mr+i%mr]; got != want {
								t.Fatalf("mr %d, m %d, kb %d: A(%d,%d) packed as %g, want %g", mr, m, kb, i, l, got, want)
							}
						}
					}
				}
			}
		}
	})
}
