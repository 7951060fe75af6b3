package train

import (
	"math"

	"github.com/splade-go/splade/kernels"
)

// The layers, each forward next to its backward. Activations are row-major
// [rows][dim] with the texts of a batch stacked (no padding). Backward
// functions accumulate (+=) into parameter gradients and, unless said
// otherwise, overwrite the input gradient.

// rowGrain is the number of rows per task of the row-wise loops.
const rowGrain = 16

// linear is y = x W^T + b with W [out][in] (PyTorch layout); gw and gb
// are the gradients of w and b.
type linear struct {
	in, out int
	w, gw   []float32
	b, gb   []float32
}

// forward sets y[n][out] = x[n][in] W^T + b. The weights are packed for
// the kernels on every call (they change every step; packing is O(out*in)
// against the O(n*out*in) product).
func (l *linear) forward(pool *kernels.Pool, y, x []float32, n int) {
	kernels.Pack(l.w, l.out, l.in).MatMul(pool, y, x, n, l.b)
}

// backward computes dx = dy W (added to dx when accum) and accumulates
// dW += dy^T x and db += sum over rows of dy. dx may be nil.
func (l *linear) backward(pool *kernels.Pool, dx, dy, x []float32, n int, accum bool) {
	if dx != nil {
		beta := float32(0)
		if accum {
			beta = 1
		}
		// Workers split the rows of dx.
		pool.For(n, 64, func(lo, hi int) {
			kernels.Gemm(false, false, hi-lo, l.in, l.out, 1, dy[lo*l.out:], l.out, l.w, l.in, beta, dx[lo*l.in:], l.in)
		})
	}
	// dW[out][in] += dy^T x: workers split the rows of dW (output units),
	// so each owns its slice of the gradient and the result does not
	// depend on scheduling.
	pool.For(l.out, 32, func(lo, hi int) {
		kernels.Gemm(true, false, hi-lo, l.in, n, 1, dy[lo:], l.out, x, l.in, 1, l.gw[lo*l.in:], l.in)
		for j := lo; j < hi; j++ {
			var s float32
			for i := 0; i < n; i++ {
				s += dy[i*l.out+j]
			}
			l.gb[j] += s
		}
	})
}

// layerNorm normalizes rows over their dim features with gain gamma and
// bias beta; the forward keeps each row's mean and reciprocal standard
// deviation for the backward.
type layerNorm struct {
	dim           int
	eps           float32
	gamma, gGamma []float32
	beta, gBeta   []float32
}

// forward sets y = LN(x) for n rows, storing the statistics in mean and
// rstd (length n). It computes exactly as kernels.LayerNorm (float64
// statistics, the same rounding), so the training model and the encoder
// agree bit for bit on this layer.
func (ln *layerNorm) forward(pool *kernels.Pool, y, x, mean, rstd []float32, n int) {
	d := ln.dim
	pool.For(n, rowGrain, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			v, out := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
			var mu float64
			for _, f := range v {
				mu += float64(f)
			}
			mu /= float64(d)
			var variance float64
			for _, f := range v {
				e := float64(f) - mu
				variance += e * e
			}
			variance /= float64(d)
			inv := 1 / math.Sqrt(variance+float64(ln.eps))
			for i, f := range v {
				out[i] = float32((float64(f)-mu)*inv)*ln.gamma[i] + ln.beta[i]
			}
			mean[r], rstd[r] = float32(mu), float32(inv)
		}
	})
}

// backward sets dx from dy for the rows x (the forward input) and
// accumulates the gradients of gamma and beta:
//
//	xhat = (x - mean) * rstd,  g = dy * gamma
//	dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
func (ln *layerNorm) backward(pool *kernels.Pool, dx, dy, x, mean, rstd []float32, n int) {
	d := ln.dim
	pool.For(n, rowGrain, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			v, g, out := x[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
			mu, rs := mean[r], rstd[r]
			var sg, sgx float32
			for i := range v {
				gi := g[i] * ln.gamma[i]
				sg += gi
				sgx += gi * (v[i] - mu) * rs
			}
			sg /= float32(d)
			sgx /= float32(d)
			for i := range v {
				xh := (v[i] - mu) * rs
				out[i] = rs * (g[i]*ln.gamma[i] - sg - xh*sgx)
			}
		}
	})
	// Parameter gradients: workers split the features, each summing over
	// all rows in order (deterministic for any thread count).
	pool.For(d, 64, func(lo, hi int) {
		for r := 0; r < n; r++ {
			v, g := x[r*d:(r+1)*d], dy[r*d:(r+1)*d]
			mu, rs := mean[r], rstd[r]
			for i := lo; i < hi; i++ {
				ln.gGamma[i] += g[i] * (v[i] - mu) * rs
				ln.gBeta[i] += g[i]
			}
		}
	})
}

// geluForward sets y = GELU(x) (exact erf form, the kernels' GELU).
func geluForward(pool *kernels.Pool, y, x []float32) {
	pool.For(len(x), 4096, func(lo, hi int) {
		copy(y[lo:hi], x[lo:hi])
		kernels.GELU(y[lo:hi])
	})
}

// geluBackward sets dx = dy * GELU'(x), GELU'(x) = Phi(x) + x phi(x).
func geluBackward(pool *kernels.Pool, dx, dy, x []float32) {
	pool.For(len(x), 4096, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dx[i] = dy[i] * geluGrad(x[i])
		}
	})
}

// geluGrad returns d/dx x*Phi(x) = Phi(x) + x*phi(x), with Phi from the
// Abramowitz-Stegun 7.1.26 erf (absolute error < 1.5e-7, below float32
// resolution of the result) and one exponential shared by Phi and phi.
func geluGrad(x float32) float32 {
	f := float64(x)
	e := expNeg(0.5 * f * f) // exp(-x^2/2)
	z := math.Abs(f) * (1 / math.Sqrt2)
	t := 1 / (1 + 0.3275911*z)
	erfc := t * (0.254829592 + t*(-0.284496736+t*(1.421413741+t*(-1.453152027+t*1.061405429)))) * e
	cdf := 0.5 * erfc // Phi(-|x|)
	if f > 0 {
		cdf = 1 - cdf
	}
	return float32(cdf + f*e*(1/math.Sqrt(2*math.Pi)))
}

// expNeg returns exp(-a) for a >= 0 (0 beyond a = 700), relative error
// about 1e-10: range reduction by ln 2 and a degree-9 Taylor polynomial,
// several times faster than math.Exp.
func expNeg(a float64) float64 {
	if a > 700 {
		return 0
	}
	const log2e, ln2hi, ln2lo = 1.4426950408889634, 6.93147180369123816490e-01, 1.90821492927058770002e-10
	k := math.Floor(-a*log2e + 0.5)
	r := -a - k*ln2hi - k*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320+r*(1.0/362880)))))))))
	return p * math.Float64frombits(uint64(int64(k)+1023)<<52)
}

// attention is multi-head self-attention over the fused projections qkv
// ([n][3H]: query, key, value), each text (rows segs[s]..segs[s+1]-1)
// attending to its own rows only, the unpadded equivalent of a masked
// padded batch. probs keeps softmax(Q K^T / sqrt(dh)) of every text and
// head, [T][T] each, text s and head h at probOff[s]+h*T*T.
type attention struct {
	hidden, heads int
}

// probOffsets returns the offsets of each text's probabilities in probs
// and their total size.
func (a *attention) probOffsets(segs []int, off []int) ([]int, int) {
	off = off[:0]
	total := 0
	for s := 0; s+1 < len(segs); s++ {
		off = append(off, total)
		T := segs[s+1] - segs[s]
		total += a.heads * T * T
	}
	return off, total
}

func (a *attention) forward(pool *kernels.Pool, ctx, probs, qkv []float32, segs, off []int) {
	H, heads := a.hidden, a.heads
	dh := H / heads
	scale := float32(1 / math.Sqrt(float64(dh)))
	ld := 3 * H
	nseg := len(segs) - 1
	pool.For(nseg*heads, 1, func(lo, hi int) {
		for item := lo; item < hi; item++ {
			s, h := item/heads, item%heads
			r0, T := segs[s], segs[s+1]-segs[s]
			if T == 0 {
				continue
			}
			p := probs[off[s]+h*T*T : off[s]+(h+1)*T*T]
			q, k, v := qkv[r0*ld+h*dh:], qkv[r0*ld+H+h*dh:], qkv[r0*ld+2*H+h*dh:]
			kernels.Gemm(false, true, T, T, dh, scale, q, ld, k, ld, 0, p, T)
			for i := 0; i < T; i++ {
				kernels.Softmax(p[i*T : (i+1)*T])
			}
			kernels.Gemm(false, false, T, dh, T, 1, p, T, v, ld, 0, ctx[r0*H+h*dh:], H)
		}
	})
}

// backward sets dqkv from dctx:
//
//	dP = dC V^T, dV = P^T dC, dS = P * (dP - rowsum(P * dP)),
//	dQ = scale dS K, dK = scale dS^T Q.
func (a *attention) backward(pool *kernels.Pool, dqkv, dctx, probs, qkv []float32, segs, off []int) {
	H, heads := a.hidden, a.heads
	dh := H / heads
	scale := float32(1 / math.Sqrt(float64(dh)))
	ld := 3 * H
	nseg := len(segs) - 1
	pool.For(nseg*heads, 1, func(lo, hi int) {
		var ds []float32
		for item := lo; item < hi; item++ {
			s, h := item/heads, item%heads
			r0, T := segs[s], segs[s+1]-segs[s]
			if T == 0 {
				continue
			}
			if cap(ds) < T*T {
				ds = make([]float32, T*T)
			}
			ds = ds[:T*T]
			p := probs[off[s]+h*T*T : off[s]+(h+1)*T*T]
			q, k, v := qkv[r0*ld+h*dh:], qkv[r0*ld+H+h*dh:], qkv[r0*ld+2*H+h*dh:]
			dq, dk, dv := dqkv[r0*ld+h*dh:], dqkv[r0*ld+H+h*dh:], dqkv[r0*ld+2*H+h*dh:]
			dc := dctx[r0*H+h*dh:]
			kernels.Gemm(false, true, T, T, dh, 1, dc, H, v, ld, 0, ds, T) // dP
			kernels.Gemm(true, false, T, dh, T, 1, p, T, dc, H, 0, dv, ld)
			for i := 0; i < T; i++ {
				pr, dr := p[i*T:(i+1)*T], ds[i*T:(i+1)*T]
				var dot float32
				for j := range pr {
					dot += pr[j] * dr[j]
				}
				for j := range pr {
					dr[j] = pr[j] * (dr[j] - dot)
				}
			}
			kernels.Gemm(false, false, T, dh, T, scale, ds, T, k, ld, 0, dq, ld)
			kernels.Gemm(true, false, T, dh, T, scale, ds, T, q, ld, 0, dk, ld)
		}
	})
}

// addInto sets x += y, split over the pool.
func addInto(pool *kernels.Pool, x, y []float32) {
	pool.For(len(x), 1<<14, func(lo, hi int) { kernels.Add(x[lo:hi], y[lo:hi]) })
}
