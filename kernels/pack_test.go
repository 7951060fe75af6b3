package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestPackA checks the blocked layout [block][l][mr] of packA, whose
// row-major fast paths (packRows8, its AVX transpose) and transposed-source
// fast path (row copies) serve every GEMM.
func TestPackA(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	forEachPath(t, func(t *testing.T) {
		for _, mr := range []int{4, 6, 8, 16} {
			for _, m := range []int{1, mr, 2*mr + 3} {
				for _, kb := range []int{1, 7, 8, 9, 16, 23} {
					for _, trans := range []bool{false, true} {
						// A(i, l) = a[i*rs + l*cs]: row-major, or its
						// transpose stored [kb][m + 5].
						rs, cs := kb+5, 1
						if trans {
							rs, cs = 1, m+5
						}
						a := randSlice(r, (m+5)*(kb+5))
						mp := roundUp(m, mr)
						d := randSlice(r, mp*kb) // stale contents must be overwritten
						packA(d, a, m, kb, rs, cs, mr)
						for i := 0; i < mp; i++ {
							for l := 0; l < kb; l++ {
								want := float32(0)
								if i < m {
									want = a[i*rs+l*cs]
								}
								if got := d[(i/mr)*mr*kb+l*mr+i%mr]; got != want {
									t.Fatalf("mr %d, m %d, kb %d, trans %v: A(%d,%d) packed as %g, want %g", mr, m, kb, trans, i, l, got, want)
								}
							}
						}
					}
				}
			}
		}
	})
}
