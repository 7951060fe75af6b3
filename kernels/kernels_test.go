package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// forEachPath runs f as a subtest on every kernel path this CPU has and
// restores the default path afterwards.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	orig := Path()
	defer func() {
		if err := SetPath(orig); err != nil {
			t.Fatal(err)
		}
	}()
	for _, name := range Paths() {
		if err := SetPath(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, f)
	}
}

// closeTo reports whether got matches want within fp32 reordering error:
// scale is the sum of the absolute values of the terms that make want.
func closeTo(got, want, scale float64) bool {
	return math.Abs(got-want) <= 1e-5*scale+1e-7
}

// absScale returns sum_l |a_il b_jl| + |bias_j| for the row-major x and w.
func absScale(x, w []float32, bias float32) float64 {
	s := math.Abs(float64(bias))
	for l := range x {
		s += math.Abs(float64(x[l]) * float64(w[l]))
	}
	return s
}

var matShapes = []struct{ m, in, out int }{
	{1, 1, 1}, {1, 3, 17}, {7, 5, 33}, {16, 64, 48}, {13, 300, 70}, {9, 513, 31},
	{130, 40, 50}, {5, 17, 600}, {33, 260, 97}, {2, 768, 40},
}

func TestMatMul(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, sh := range matShapes {
			for _, withBias := range []bool{false, true} {
				for _, threads := range []int{1, 3} {
					name := fmt.Sprintf("m%d_in%d_out%d_bias%v_t%d", sh.m, sh.in, sh.out, withBias, threads)
					w := randSlice(r, sh.out*sh.in)
					x := randSlice(r, sh.m*sh.in)
					var bias []float32
					if withBias {
						bias = randSlice(r, sh.out)
					}
					want := make([]float32, sh.m*sh.out)
					matMulRef(w, sh.out, sh.in, want, x, sh.m, bias)
					got := make([]float32, sh.m*sh.out)
					for i := range got {
						got[i] = float32(math.NaN()) // must all be overwritten
					}
					Pack(w, sh.out, sh.in).MatMul(NewPool(threads), got, x, sh.m, bias)
					for i := 0; i < sh.m; i++ {
						for j := 0; j < sh.out; j++ {
							var b float32
							if bias != nil {
								b = bias[j]
							}
							sc := absScale(x[i*sh.in:(i+1)*sh.in], w[j*sh.in:(j+1)*sh.in], b)
							if g, e := got[i*sh.out+j], want[i*sh.out+j]; !closeTo(float64(g), float64(e), sc) {
								t.Fatalf("%s: y[%d][%d] = %g, want %g", name, i, j, g, e)
							}
						}
					}
				}
			}
		}
	})
}

func TestSpladePool(t *testing.T) {
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
		{"many_rows", []int{0, 100, 140}, 20, 33, true},
		{"empty", []int{0, 0}, 4, 3, true},
	}
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, tc := range cases {
			for _, mode := range []Pooling{PoolMax, PoolSum} {
				nseg := len(tc.segs) - 1
				m := tc.segs[nseg]
				w := randSlice(r, tc.out*tc.in)
				h := randSlice(r, m*tc.in)
				var bias []float32
				if tc.withBias {
					bias = randSlice(r, tc.out)
				}
				want := make([]float32, nseg*tc.out)
				spladePoolRef(w, tc.out, tc.in, want, h, tc.segs, bias, mode)
				got := make([]float32, nseg*tc.out)
				for i := range got {
					got[i] = float32(math.NaN())
				}
				Pack(w, tc.out, tc.in).SpladePool(NewPool(2), got, h, tc.segs, bias, mode)
				for s := 0; s < nseg; s++ {
					for j := 0; j < tc.out; j++ {
						// Error bound: each logit is off by at most
						// 1e-5*scale and log1p has slope <= 1.
						var sc float64
						for i := tc.segs[s]; i < tc.segs[s+1]; i++ {
							var b float32
							if bias != nil {
								b = bias[j]
							}
							sc += absScale(h[i*tc.in:(i+1)*tc.in], w[j*tc.in:(j+1)*tc.in], b)
						}
						if g, e := got[s*tc.out+j], want[s*tc.out+j]; !closeTo(float64(g), float64(e), sc) {
							t.Fatalf("%s mode %d: out[%d][%d] = %g, want %g", tc.name, mode, s, j, g, e)
						}
					}
				}
			}
		}
	})
}

func TestGemm(t *testing.T) {
	shapes := []struct{ m, n, k int }{
		{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {7, 33, 64}, {12, 12, 64}, {17, 64, 17}, {40, 35, 300}, {9, 16, 1},
	}
	ab := []struct{ alpha, beta float32 }{{1, 0}, {0.125, 0}, {1, 1}, {0.5, -2}}
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, sh := range shapes {
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					for _, co := range ab {
						name := fmt.Sprintf("m%d_n%d_k%d_ta%v_tb%v_a%g_b%g", sh.m, sh.n, sh.k, ta, tb, co.alpha, co.beta)
						// Strided operands: leading dimensions larger than the rows.
						ar, ac := sh.m, sh.k
						if ta {
							ar, ac = sh.k, sh.m
						}
						br, bc := sh.k, sh.n
						if tb {
							br, bc = sh.n, sh.k
						}
						lda, ldb, ldc := ac+3, bc+5, sh.n+2
						a := randSlice(r, ar*lda)
						b := randSlice(r, br*ldb)
						c0 := randSlice(r, sh.m*ldc)
						want := append([]float32(nil), c0...)
						gemmRef(ta, tb, sh.m, sh.n, sh.k, co.alpha, a, lda, b, ldb, co.beta, want, ldc)
						got := append([]float32(nil), c0...)
						Gemm(ta, tb, sh.m, sh.n, sh.k, co.alpha, a, lda, b, ldb, co.beta, got, ldc)
						for i := 0; i < sh.m; i++ {
							for j := 0; j < ldc; j++ {
								if j >= sh.n {
									if got[i*ldc+j] != c0[i*ldc+j] {
										t.Fatalf("%s: wrote outside C at [%d][%d]", name, i, j)
									}
									continue
								}
								sc := math.Abs(float64(co.beta) * float64(c0[i*ldc+j]))
								for l := 0; l < sh.k; l++ {
									var av, bv float32
									if ta {
										av = a[l*lda+i]
									} else {
										av = a[i*lda+l]
									}
									if tb {
										bv = b[j*ldb+l]
									} else {
										bv = b[l*ldb+j]
									}
									sc += math.Abs(float64(co.alpha) * float64(av) * float64(bv))
								}
								if g, e := got[i*ldc+j], want[i*ldc+j]; !closeTo(float64(g), float64(e), sc) {
									t.Fatalf("%s: c[%d][%d] = %g, want %g", name, i, j, g, e)
								}
							}
						}
					}
				}
			}
		}
	})
}

func TestSetPath(t *testing.T) {
	if err := SetPath("no-such-path"); err == nil {
		t.Fatal("SetPath accepted an unknown path")
	}
	paths := Paths()
	if len(paths) == 0 || paths[len(paths)-1] != PathGeneric {
		t.Fatalf("Paths() = %v, want the generic path last", paths)
	}
	if Path() != paths[0] && Path() == "" {
		t.Fatalf("Path() = %q", Path())
	}
}

func TestMatMulGELU(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, sh := range matShapes {
			w := randSlice(r, sh.out*sh.in)
			x := randSlice(r, sh.m*sh.in)
			bias := randSlice(r, sh.out)
			lin := make([]float32, sh.m*sh.out)
			matMulRef(w, sh.out, sh.in, lin, x, sh.m, bias)
			got := make([]float32, sh.m*sh.out)
			Pack(w, sh.out, sh.in).MatMulGELU(NewPool(2), got, x, sh.m, bias)
			for i := 0; i < sh.m; i++ {
				for j := 0; j < sh.out; j++ {
					z := float64(lin[i*sh.out+j])
					want := 0.5 * z * (1 + math.Erf(z/math.Sqrt2))
					// GELU's slope is below 1.13: the logit error bound
					// carries over, plus float32 rounding of the result.
					sc := 1.13 * absScale(x[i*sh.in:(i+1)*sh.in], w[j*sh.in:(j+1)*sh.in], bias[j])
					if g := float64(got[i*sh.out+j]); !closeTo(g, want, sc) && ulpsOff(float32(g), want) > 2 {
						t.Fatalf("m%d_in%d_out%d: y[%d][%d] = %g, want %g", sh.m, sh.in, sh.out, i, j, g, want)
					}
				}
			}
		}
	})
}

// TestProduct checks Product, the products of a linear layer's backward,
// against float64 sums: y (+)= op(x) B with B packed by PackKN (row-major
// k x n with a row stride) or by PackInto (a transposed [n][k] matrix),
// op(x) = x or x given transposed, storage reused across shapes.
func TestProduct(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		var dst *Packed
		for _, sh := range append(matShapes, struct{ m, in, out int }{100, 600, 70}) {
			m, k, n := sh.m, sh.in, sh.out
			for _, transX := range []bool{false, true} {
				for _, kn := range []bool{false, true} {
					x, b := randSlice(r, m*k), randSlice(r, k*(n+3))
					xAt := func(i, l int) float32 { return x[i*k+l] }
					if transX {
						xAt = func(i, l int) float32 { return x[l*m+i] }
					}
					bAt := func(l, j int) float32 { return b[j*k+l] } // PackInto: b is [n][k]
					if kn {
						bAt = func(l, j int) float32 { return b[l*(n+3)+j] }
					}
					// The float64 product and the sum of the absolute terms.
					prod, scale := make([]float64, m*n), make([]float64, m*n)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							for l := 0; l < k; l++ {
								p := float64(xAt(i, l)) * float64(bAt(l, j))
								prod[i*n+j] += p
								scale[i*n+j] += math.Abs(p)
							}
						}
					}
					for _, accum := range []bool{false, true} {
						for _, threads := range []int{1, 3} {
							name := fmt.Sprintf("m%d_k%d_n%d_transX%v_accum%v_kn%v_t%d", m, k, n, transX, accum, kn, threads)
							pool := NewPool(threads)
							if kn {
								dst = PackKN(pool, dst, b, k, n, n+3)
							} else {
								dst = PackInto(pool, dst, b[:n*k], n, k)
							}
							y0 := randSlice(r, m*n)
							got := append([]float32(nil), y0...)
							dst.Product(pool, got, x, m, transX, accum)
							for i, g := range got {
								want, sc := prod[i], scale[i]
								if accum {
									want += float64(y0[i])
									sc += math.Abs(float64(y0[i]))
								}
								if !closeTo(float64(g), want, sc) {
									t.Fatalf("%s: y[%d][%d] = %g, want %g", name, i/n, i%n, g, want)
								}
							}
						}
					}
				}
			}
		}
	})
}
