package kernels

import "math"

// Scalar float64 approximations for the element-wise kernels. math.Exp and
// math.Erf are accurate to the last float64 bit but cost 12-25 ns each,
// which made GELU over the FFN activations cost as much as the FFN GEMMs;
// these are accurate to ~1e-9 relative, far below float32 rounding, and
// evaluate as short branch-free polynomials.

const (
	log2e = 1.4426950408889634
	ln2hi = 6.93147180369123816490e-01 // high bits of ln 2, exact k*ln2hi
	ln2lo = 1.90821492927058770002e-10
	// round is 1.5*2^52: adding and subtracting it rounds to an integer.
	round = 6755399441055744.0
)

// expFast returns e^x for x in [-700, 700] with relative error < 3e-10.
func expFast(x float64) float64 {
	k := (x*log2e + round) - round
	r := x - k*ln2hi - k*ln2lo // |r| <= ln2/2
	// Taylor series to r^9: truncation error |r|^10/10! < 8e-12.
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320+r*(1.0/362880)))))))))
	return p * math.Float64frombits(uint64(int64(k)+1023)<<52)
}

// erfcCoef are the monomial coefficients, in t = 1/(1 + z/2), of a degree-9
// Chebyshev interpolant of erfc(z)*exp(z^2) on z in [0, 4]; relative error
// of the resulting erfc is < 1.1e-8 there (fitted for this package by
// Chebyshev interpolation at 10 nodes, in the manner of Numerical Recipes'
// erfcc, which uses the same change of variable).
var erfcCoef = [10]float64{
	-0.0003319394811879155,
	0.2876415842904956,
	0.24177763300964591,
	0.41299891142430784,
	-0.24566647116593607,
	0.7467832082622083,
	-0.5938324851385701,
	0.13229592851154048,
	0.03276498629730339,
	-0.014431357104573711,
}

// erfcPos returns erfc(z) for z >= 0 (0 beyond z = 4, where erfc < 1.6e-8).
func erfcPos(z float64) float64 {
	if z >= 4 {
		return 0
	}
	t := 1 / (1 + 0.5*z)
	c := &erfcCoef
	p := c[0] + t*(c[1]+t*(c[2]+t*(c[3]+t*(c[4]+t*(c[5]+t*(c[6]+t*(c[7]+t*(c[8]+t*c[9]))))))))
	return p * expFast(-z*z)
}

// gelu returns x * Phi(x) = x * (1 + erf(x/sqrt2)) / 2.
func gelu(x float32) float32 {
	f := float64(x)
	h := 0.5 * erfcPos(math.Abs(f)*(1/math.Sqrt2)) // Phi(-|x|)
	// Phi(x) = 1-h for x >= 0 and h below: a branch-free select, as the
	// sign of activations is unpredictable.
	return float32(f * (0.5 + math.Copysign(0.5-h, f)))
}

// GELU applies the exact (erf) GELU in place: x * (1 + erf(x/sqrt 2)) / 2.
// The erf is evaluated to ~1e-8, well inside float32 rounding.
func GELU(x []float32) {
	done := geluFast(x)
	for i, f := range x[done:] {
		i += done
		x[i] = gelu(f)
	}
}

// Softmax replaces x by exp(x - max) / sum in place.
func Softmax(x []float32) { softmaxScaled(x, 1) }

// SoftmaxScaled replaces x by the softmax of float32(scale*x), scale > 0:
// attention's scaled softmax, with the scale applied exactly as a
// separate scaling pass (or a GEMM's alpha) would round it, so that the
// scores can be stored straight from an unscaled product.
func SoftmaxScaled(x []float32, scale float32) { softmaxScaled(x, scale) }

// softmaxScaled replaces x by the softmax of float32(scale*x), scale > 0.
// Folding the attention scale 1/sqrt(d) in here lets the score GEMM store
// its tiles straight from the microkernel; the product is rounded to
// float32 exactly as a separate scaling pass would round it (and is exact
// for scale 1).
func softmaxScaled(x []float32, scale float32) {
	if len(x) == 0 {
		return
	}
	mx, done := maxFast(x)
	if done == 0 {
		mx = x[0]
	}
	for _, f := range x[done:] {
		mx = max(mx, f)
	}
	// Rounding is monotonic, so max(scale*x) = scale*max(x) for scale > 0.
	m := float64(scale * mx)
	var s float64
	done, s = softmaxExpFast(x, scale, m)
	for i, f := range x[done:] {
		// exp underflows float32 below -104; clamping keeps expFast in range.
		e := expFast(max(float64(scale*f)-m, -110))
		x[done+i] = float32(e)
		s += e
	}
	inv := 1 / s
	done = scaleFast(x, inv)
	for i, e := range x[done:] {
		x[done+i] = float32(float64(e) * inv)
	}
}

// Log1p returns log(1 + z) for z > 0 (0 otherwise) rounded to float32, with
// relative error < 1e-9 before rounding: SPLADE's saturation, several times
// cheaper than math.Log1p.
func Log1p(z float32) float32 { return log1pf(z) }

// log1pf returns log(1 + z) for z > 0 (0 for z <= 0, and for NaN), rounded
// to float32, with relative error < 1e-9 before rounding.
func log1pf(z float32) float32 {
	if !(z > 0) {
		return 0
	}
	f := float64(z)
	if f < 1e-4 {
		// log1p(f) = f - f^2/2 + f^3/3 - ...; the next term is < 2.5e-13 f.
		return float32(f * (1 - f*(0.5-f*(1.0/3))))
	}
	if math.IsInf(f, 1) {
		return z
	}
	// 1+f is exact enough in float64 (f has a 24-bit mantissa and
	// f >= 1e-4). Split u = 2^e * m with m in [sqrt(1/2), sqrt 2), then
	// log m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172.
	u := 1 + f
	bits := math.Float64bits(u)
	e := int64(bits>>52) - 1023
	m := math.Float64frombits(bits&(1<<52-1) | 1023<<52)
	if m > math.Sqrt2 {
		m *= 0.5
		e++
	}
	s := (m - 1) / (m + 1)
	s2 := s * s
	// atanh series to s^13: truncation < s^15/15 < 3.4e-13 relative.
	l := 2 * s * (1 + s2*(1.0/3+s2*(1.0/5+s2*(1.0/7+s2*(1.0/9+s2*(1.0/11+s2*(1.0/13)))))))
	return float32(float64(e)*math.Ln2 + l)
}

// Add sets x[i] += y[i] (residual connections); y must be at least as long
// as x.
func Add(x, y []float32) {
	y = y[:len(x)]
	done := addFast(x, y)
	for i := done; i < len(x); i++ {
		x[i] += y[i]
	}
}

// Axpy sets y[i] += alpha*x[i], the product rounded to float32 before the
// sum; x must be at least as long as y.
func Axpy(y []float32, alpha float32, x []float32) {
	x = x[:len(y)]
	done := axpyFast(y, alpha, x)
	for i := done; i < len(y); i++ {
		y[i] += alpha * x[i]
	}
}

// GELUBackward sets dx[i] = dy[i] * GELU'(x[i]), the derivative of the
// exact GELU, GELU'(x) = Phi(x) + x phi(x), accurate to ~1.5e-7 absolute
// (below float32 resolution of the result). dx may alias dy; dy and x
// must be at least as long as dx.
func GELUBackward(dx, dy, x []float32) {
	dy, x = dy[:len(dx)], x[:len(dx)]
	done := geluGradFast(dx, dy, x)
	for i := done; i < len(dx); i++ {
		dx[i] = dy[i] * geluGrad(x[i])
	}
}

// erfP and erfA are the constants of Abramowitz and Stegun 7.1.26,
// erfc(z) = t (a1 + t (a2 + ... + t a5)) exp(-z^2), t = 1/(1 + p z),
// absolute error < 1.5e-7.
const erfP = 0.3275911

var erfA = [5]float64{0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429}

// geluGrad returns d/dx x*Phi(x) = Phi(x) + x*phi(x), with Phi from the
// Abramowitz-Stegun erfc and one exponential shared by Phi and phi.
func geluGrad(x float32) float32 {
	f := float64(x)
	e := expNeg(0.5 * f * f) // exp(-x^2/2)
	z := math.Abs(f) * (1 / math.Sqrt2)
	t := 1 / (1 + erfP*z)
	a := &erfA
	erfc := t * (a[0] + t*(a[1]+t*(a[2]+t*(a[3]+t*a[4])))) * e
	cdf := 0.5 * erfc // Phi(-|x|)
	if f > 0 {
		cdf = 1 - cdf
	}
	return float32(cdf + f*e*(1/math.Sqrt(2*math.Pi)))
}

// expNeg returns exp(-a) for a >= 0 (0 beyond a = 700), relative error
// about 1e-10.
func expNeg(a float64) float64 {
	if a > 700 {
		return 0
	}
	return expFast(-a)
}
