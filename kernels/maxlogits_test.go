package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaxLogits checks the max logits against float64 dot products and
// that each argmax is a row of its text whose logit is the maximum (up to
// fp32 reordering error), on ragged, empty and long texts, row blocks of
// several texts and a text spanning row blocks.
func TestMaxLogits(t *testing.T) {
	cases := []struct {
		name     string
		segs     []int
		in, out  int
		withBias bool
	}{
		{"one_token", []int{0, 1}, 8, 5, true},
		{"query", []int{0, 16}, 64, 70, true},
		{"ragged", []int{0, 3, 3, 10, 27, 28}, 33, 97, true},
		{"no_bias_long_k", []int{0, 9, 20}, 300, 40, false},
		{"spanning_blocks", []int{0, 5, 600, 610}, 20, 33, true},
		{"empty", []int{0, 0}, 4, 3, true},
		{"no_in", []int{0, 2, 4}, 0, 17, true},
	}
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, tc := range cases {
			for _, threads := range []int{1, 3} {
				name := fmt.Sprintf("%s_t%d", tc.name, threads)
				nseg := len(tc.segs) - 1
				m := tc.segs[nseg]
				w := randSlice(r, tc.out*tc.in)
				h := randSlice(r, m*tc.in)
				var bias []float32
				if tc.withBias {
					bias = randSlice(r, tc.out)
				}
				mx := make([]float32, nseg*tc.out)
				arg := make([]int32, nseg*tc.out)
				for i := range mx {
					mx[i], arg[i] = float32(math.NaN()), -7 // must be overwritten
				}
				Pack(w, tc.out, tc.in).MaxLogits(NewPool(threads), mx, arg, h, tc.segs, bias)
				logit := func(i, j int) (float64, float64) {
					var b float32
					if bias != nil {
						b = bias[j]
					}
					return dotRef(h[i*tc.in:(i+1)*tc.in], w[j*tc.in:(j+1)*tc.in]) + float64(b),
						absScale(h[i*tc.in:(i+1)*tc.in], w[j*tc.in:(j+1)*tc.in], b)
				}
				for s := 0; s < nseg; s++ {
					for j := 0; j < tc.out; j++ {
						g, a := mx[s*tc.out+j], int(arg[s*tc.out+j])
						if tc.segs[s] == tc.segs[s+1] {
							if !math.IsInf(float64(g), -1) || a != -1 {
								t.Fatalf("%s: empty text %d term %d: max %g at %d, want -Inf at -1", name, s, j, g, a)
							}
							continue
						}
						want, sc := math.Inf(-1), 0.0
						for i := tc.segs[s]; i < tc.segs[s+1]; i++ {
							z, zs := logit(i, j)
							want, sc = math.Max(want, z), math.Max(sc, zs)
						}
						if !closeTo(float64(g), want, sc) {
							t.Fatalf("%s: max[%d][%d] = %g, want %g", name, s, j, g, want)
						}
						if a < tc.segs[s] || a >= tc.segs[s+1] {
							t.Fatalf("%s: argmax[%d][%d] = %d, outside rows %d..%d", name, s, j, a, tc.segs[s], tc.segs[s+1]-1)
						}
						if z, _ := logit(a, j); !closeTo(z, want, 2*sc) {
							t.Fatalf("%s: argmax[%d][%d] = row %d with logit %g, the max is %g", name, s, j, a, z, want)
						}
					}
				}
			}
		}
	})
}

// TestMaxArgRows: the vector loop picks exactly what the scalar loop picks,
// the first of tied maxima and never NaN, for widths with a scalar tail.
func TestMaxArgRows(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	forEachPath(t, func(t *testing.T) {
		for _, cols := range []int{1, 8, 16, 19, 32} {
			for _, rows := range []int{1, 2, 8, 13} {
				ldz := cols + 5
				z := make([]float32, rows*ldz)
				for i := range z {
					z[i] = float32(r.IntN(5)) // many ties
					if r.IntN(10) == 0 {
						z[i] = float32(math.NaN())
					}
				}
				mx, arg := make([]float32, cols), make([]int32, cols)
				wantMx, wantArg := make([]float32, cols), make([]int32, cols)
				for j := range mx {
					mx[j], arg[j] = 2, -1
					wantMx[j], wantArg[j] = 2, -1
				}
				maxArgRows(z, ldz, rows, mx, arg, 40)
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						if v := z[i*ldz+j]; v > wantMx[j] {
							wantMx[j], wantArg[j] = v, int32(40+i)
						}
					}
				}
				for j := range mx {
					if mx[j] != wantMx[j] || arg[j] != wantArg[j] {
						t.Fatalf("cols %d rows %d: column %d: (%g, %d), want (%g, %d)", cols, rows, j, mx[j], arg[j], wantMx[j], wantArg[j])
					}
				}
			}
		}
	})
}

// TestMaxRows checks max pooling's running maximum on every path against
// the scalar loop: NaN never wins, columns past a multiple of 8 and of 32
// included.
func TestMaxRows(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	forEachPath(t, func(t *testing.T) {
		for _, cols := range []int{1, 8, 16, 19, 32, 40, 64, 71} {
			for _, rows := range []int{1, 2, 8, 13} {
				ldz := cols + 3
				z := make([]float32, rows*ldz)
				for i := range z {
					z[i] = float32(r.IntN(9)) - 4
					if r.IntN(10) == 0 {
						z[i] = float32(math.NaN())
					}
				}
				mx, want := make([]float32, cols), make([]float32, cols)
				for j := range mx {
					mx[j] = float32(r.IntN(3)) - 1
					want[j] = mx[j]
				}
				maxRows(z, ldz, rows, mx)
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						if v := z[i*ldz+j]; v > want[j] {
							want[j] = v
						}
					}
				}
				for j := range mx {
					if mx[j] != want[j] {
						t.Fatalf("cols %d rows %d: column %d: %g, want %g", cols, rows, j, mx[j], want[j])
					}
				}
			}
		}
	})
}
