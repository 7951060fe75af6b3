package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// ulpsOff returns |got - want| in units of float32 spacing at want, with a
// floor at the smallest normal so values near zero compare absolutely.
func ulpsOff(got float32, want float64) float64 {
	w := float32(want)
	ulp := math.Max(float64(math.Nextafter32(float32(math.Abs(float64(w))), float32(math.Inf(1)))-float32(math.Abs(float64(w)))), 1e-38)
	return math.Abs(float64(got)-want) / ulp
}

func TestGELU(t *testing.T) {
	var xs []float32
	for x := float32(-12); x <= 12; x += 1.0 / 64 {
		xs = append(xs, x)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		xs = append(xs, float32(r.NormFloat64()*3))
	}
	xs = append(xs, 0, 1e-30, -1e-30, 3e38, -3e38, 5.65, -5.65, 5.66, -5.66)
	forEachPath(t, func(t *testing.T) {
		got := append([]float32(nil), xs...)
		GELU(got)
		for i, x := range xs {
			f := float64(x)
			want := 0.5 * f * (1 + math.Erf(f/math.Sqrt2))
			// Within 2 float32 ulps, or 1e-7 absolute where erf's tail is
			// cut off (x < -5.65, |GELU| < 5e-8).
			if ulpsOff(got[i], want) > 2 && math.Abs(float64(got[i])-want) > 1e-7 {
				t.Fatalf("GELU(%g) = %g, want %g", x, got[i], want)
			}
		}
	})
}

// TestSoftmax checks softmaxScaled (Softmax is scale 1) on every path
// against float64 math.Exp; lengths 1..9 and 131 exercise the scalar tail
// after the vector prefix.
func TestSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	cases := map[string][]float32{
		"one":       {3},
		"equal":     {1, 1, 1, 1},
		"spread":    {-200, -50, 0, 10, 80},
		"huge":      {3e38, -3e38, 0},
		"underflow": {0, -90, -100, -103, -104, -105, -110, -120, -1e30},
		"random64":  randSlice(r, 64),
		"random131": randSlice(r, 131),
	}
	for n := 2; n <= 9; n++ {
		cases[fmt.Sprintf("random%d", n)] = randSlice(r, n)
	}
	forEachPath(t, func(t *testing.T) {
		for name, x := range cases {
			for _, scale := range []float32{1, 0.125, 0.1} {
				got := append([]float32(nil), x...)
				softmaxScaled(got, scale)
				m := math.Inf(-1)
				for _, f := range x {
					m = math.Max(m, float64(scale*f))
				}
				var s float64
				for _, f := range x {
					s += math.Exp(float64(scale*f) - m)
				}
				for i, f := range x {
					want := math.Exp(float64(scale*f)-m) / s
					if ulpsOff(got[i], want) > 2 && math.Abs(float64(got[i])-want) > 1e-38 {
						t.Fatalf("%s, scale %g: softmax[%d] = %g, want %g", name, scale, i, got[i], want)
					}
				}
			}
		}
		// A NaN anywhere makes every output NaN, as in the scalar loop.
		x := randSlice(r, 19)
		x[11] = float32(math.NaN())
		softmaxScaled(x, 1)
		for i, f := range x {
			if !math.IsNaN(float64(f)) {
				t.Fatalf("softmax with a NaN input: [%d] = %g, want NaN", i, f)
			}
		}
	})
}

// TestSoftmaxPathsAgree: the vector exponentials differ from the portable
// ones only by FMA rounding, so every path lands within 1 float32 ulp of
// the generic result.
func TestSoftmaxPathsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	x := make([]float32, 128*64)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 8)
	}
	orig := Path()
	defer SetPath(orig)
	if err := SetPath(PathGeneric); err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), x...)
	for i := 0; i < len(want); i += 128 {
		softmaxScaled(want[i:i+128], 0.125)
	}
	forEachPath(t, func(t *testing.T) {
		got := append([]float32(nil), x...)
		for i := 0; i < len(got); i += 128 {
			softmaxScaled(got[i:i+128], 0.125)
		}
		for i := range got {
			if ulpsOff(got[i], float64(want[i])) > 1 {
				t.Fatalf("softmax[%d] = %g on %s, %g on generic", i, got[i], Path(), want[i])
			}
		}
	})
}

func TestLog1pf(t *testing.T) {
	zs := []float32{-1, 0, 1e-30, 1e-7, 9.9e-5, 1e-4, 1.2e-4, 0.3, 0.4142, 0.4143, 1, 2.5, 1e3, 3e38, float32(math.Inf(1))}
	r := rand.New(rand.NewPCG(11, 12))
	for range 5000 {
		zs = append(zs, float32(math.Exp(r.Float64()*40-20)))
	}
	for _, z := range zs {
		want := 0.0
		if z > 0 {
			want = math.Log1p(float64(z))
		}
		if got := log1pf(z); got != float32(want) && ulpsOff(got, want) > 1 {
			t.Fatalf("log1pf(%g) = %g, want %g", z, got, want)
		}
	}
}

func TestExpFast(t *testing.T) {
	for x := -700.0; x <= 700; x += 0.37 {
		if got, want := expFast(x), math.Exp(x); math.Abs(got-want) > 3e-10*want {
			t.Fatalf("expFast(%g) = %g, want %g", x, got, want)
		}
	}
}

// TestAddAxpy: the vector loops give exactly the scalar results (the same
// float32 roundings), for lengths that exercise the unrolled loop, the
// 8-float loop and the scalar tail.
func TestAddAxpy(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	forEachPath(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 40, 100, 1027} {
			x, y := randSlice(r, n), randSlice(r, n+3)
			alpha := float32(r.NormFloat64())
			got := append([]float32(nil), x...)
			Add(got, y)
			for i := range x {
				if want := x[i] + y[i]; got[i] != want {
					t.Fatalf("n %d: Add[%d] = %g, want %g", n, i, got[i], want)
				}
			}
			got = append(got[:0], x...)
			Axpy(got, alpha, y)
			for i := range x {
				p := alpha * y[i] // rounded before the sum, as Axpy promises
				if want := x[i] + p; got[i] != want {
					t.Fatalf("n %d: Axpy[%d] = %g, want %g", n, i, got[i], want)
				}
			}
		}
	})
}

// TestGELUBackward checks dy * GELU'(x) on every path against float64
// erfc and exp, on a grid, random values and the extremes (where the
// exponential underflows and the vector code masks it to 0).
func TestGELUBackward(t *testing.T) {
	var xs []float32
	for x := float32(-40); x <= 40; x += 1.0 / 32 {
		xs = append(xs, x)
	}
	r := rand.New(rand.NewPCG(13, 14))
	for range 5000 {
		xs = append(xs, float32(r.NormFloat64()*3))
	}
	xs = append(xs, 0, 1e-30, -1e-30, 37.4, -37.4, 37.5, -37.5, 3e38, -3e38, 1e20, -1e20)
	dy := randSlice(r, len(xs))
	forEachPath(t, func(t *testing.T) {
		for _, n := range []int{len(xs), len(xs) - 1, 3} {
			dx := make([]float32, n)
			GELUBackward(dx, dy, xs)
			for i := 0; i < n; i++ {
				f := float64(xs[i])
				want := 0.5*math.Erfc(-f/math.Sqrt2) + f*math.Exp(-f*f/2)/math.Sqrt(2*math.Pi)
				want *= float64(dy[i])
				if math.Abs(float64(dx[i])-want) > 3e-7*math.Abs(float64(dy[i]))+1e-7*math.Abs(want) {
					t.Fatalf("n %d: dy*GELU'(%g) = %.9g, want %.9g", n, xs[i], dx[i], want)
				}
			}
		}
		// In place (dx aliasing dy), as the training backward calls it.
		d := append([]float32(nil), dy...)
		want := make([]float32, len(xs))
		GELUBackward(want, dy, xs)
		GELUBackward(d, d, xs)
		for i := range d {
			if d[i] != want[i] {
				t.Fatalf("in place: %g, want %g", d[i], want[i])
			}
		}
	})
}

// TestLayerNorm checks LayerNormTo on every path against float64 math,
// widths with and without a scalar tail, in place and not, with the
// statistics; and that every path agrees with the portable one to within
// one float32 rounding (only the float64 statistics' summation order
// differs).
func TestLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const rows = 5
	for _, dim := range []int{1, 7, 8, 13, 64, 768} {
		x := randSlice(r, rows*dim)
		for i := range x {
			x[i] = x[i]*3 + 1 // a mean far from 0
		}
		gamma, beta := randSlice(r, dim), randSlice(r, dim)
		want := make([]float64, rows*dim)
		for i := 0; i < rows; i++ {
			v := x[i*dim : (i+1)*dim]
			var mu, q float64
			for _, f := range v {
				mu += float64(f)
			}
			mu /= float64(dim)
			for _, f := range v {
				q += (float64(f) - mu) * (float64(f) - mu)
			}
			inv := 1 / math.Sqrt(q/float64(dim)+1e-12)
			for j, f := range v {
				want[i*dim+j] = (float64(f)-mu)*inv*float64(gamma[j]) + float64(beta[j])
			}
		}
		generic := make([]float32, rows*dim)
		orig := Path()
		if err := SetPath(PathGeneric); err != nil {
			t.Fatal(err)
		}
		LayerNormTo(generic, x, rows, dim, gamma, beta, 1e-12, nil, nil)
		if err := SetPath(orig); err != nil {
			t.Fatal(err)
		}
		forEachPath(t, func(t *testing.T) {
			y := make([]float32, rows*dim)
			mean, rstd := make([]float32, rows), make([]float32, rows)
			LayerNormTo(y, x, rows, dim, gamma, beta, 1e-12, mean, rstd)
			inPlace := append([]float32(nil), x...)
			LayerNorm(inPlace, rows, dim, gamma, beta, 1e-12)
			for i, g := range y {
				if inPlace[i] != g {
					t.Fatalf("dim %d: in place %g, into y %g", dim, inPlace[i], g)
				}
				// float32 rounding of (x-mean)*rstd, of the product with
				// gamma and of the sum: a few ulps of the terms.
				sc := math.Abs(float64(gamma[i%dim]))*4 + math.Abs(float64(beta[i%dim]))
				if math.Abs(float64(g)-want[i]) > 1e-6*sc {
					t.Fatalf("dim %d: y[%d] = %g, want %g", dim, i, g, want[i])
				}
			}
			for i := 0; i < rows && dim > 1; i++ {
				if mean[i] == 0 || rstd[i] <= 0 {
					t.Fatalf("dim %d: row %d statistics %g, %g", dim, i, mean[i], rstd[i])
				}
			}
			for i := range y {
				if ulpsOff(y[i], float64(generic[i])) > 1 {
					t.Fatalf("dim %d: %s gives %g, generic %g", dim, Path(), y[i], generic[i])
				}
			}
		})
	}
}
