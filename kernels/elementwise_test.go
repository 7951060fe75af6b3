package kernels

import (
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

func TestSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	cases := map[string][]float32{
		"one":      {3},
		"equal":    {1, 1, 1, 1},
		"spread":   {-200, -50, 0, 10, 80},
		"huge":     {3e38, -3e38, 0},
		"random64": randSlice(r, 64),
	}
	for name, x := range cases {
		got := append([]float32(nil), x...)
		Softmax(got)
		m := math.Inf(-1)
		for _, f := range x {
			m = math.Max(m, float64(f))
		}
		var s float64
		for _, f := range x {
			s += math.Exp(float64(f) - m)
		}
		for i, f := range x {
			want := math.Exp(float64(f)-m) / s
			if ulpsOff(got[i], want) > 2 && math.Abs(float64(got[i])-want) > 1e-38 {
				t.Fatalf("%s: softmax[%d] = %g, want %g", name, i, got[i], want)
			}
		}
	}
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
