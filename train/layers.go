package train

import (
	"math"
	"sync"

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
	p := getPacked()
	defer packedPool.Put(p)
	kernels.PackInto(pool, p, l.w, l.out, l.in).MatMul(pool, y, x, n, l.b)
}

// backward computes dx = dy W (added to dx when accum) and accumulates
// dW += dy^T x and db += sum over rows of dy. dx may be nil.
//
// Both products run on the kernels' packed GEMM, each operand packed once
// and the output split over the pool by columns: W as it is stored for
// dx, and x for dW, whose left operand dy^T the kernels read transposed.
// Every gradient entry is one worker's complete sum, so the result does
// not depend on the number of threads.
func (l *linear) backward(pool *kernels.Pool, dx, dy, x []float32, n int, accum bool) {
	p := getPacked()
	defer packedPool.Put(p)
	if dx != nil {
		kernels.PackKN(pool, p, l.w, l.out, l.in, l.in).Product(pool, dx, dy, n, false, accum)
	}
	kernels.PackKN(pool, p, x, n, l.in, l.in).Product(pool, l.gw, dy, l.out, true, true)
	// db: workers split the columns and add the rows in order.
	pool.For(l.out, 256, func(lo, hi int) {
		sum := make([]float32, hi-lo)
		for i := 0; i < n; i++ {
			kernels.Add(sum, dy[i*l.out+lo:i*l.out+hi])
		}
		kernels.Add(l.gb[lo:hi], sum)
	})
}

// packedPool holds the packed operands of the linear layers, reused
// across calls (one is live per running product).
var packedPool = sync.Pool{New: func() any { return new(kernels.Packed) }}

func getPacked() *kernels.Packed { return packedPool.Get().(*kernels.Packed) }

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
// rstd (length n). It is kernels.LayerNormTo, so the training model and
// the encoder agree bit for bit on this layer.
func (ln *layerNorm) forward(pool *kernels.Pool, y, x, mean, rstd []float32, n int) {
	d := ln.dim
	pool.For(n, rowGrain, func(lo, hi int) {
		kernels.LayerNormTo(y[lo*d:hi*d], x[lo*d:hi*d], hi-lo, d, ln.gamma, ln.beta, ln.eps, mean[lo:hi], rstd[lo:hi])
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
	elementwise(pool, len(x), func(lo, hi int) {
		copy(y[lo:hi], x[lo:hi])
		kernels.GELU(y[lo:hi])
	})
}

// geluBackward sets dx = dy * GELU'(x), GELU'(x) = Phi(x) + x phi(x).
func geluBackward(pool *kernels.Pool, dx, dy, x []float32) {
	elementwise(pool, len(x), func(lo, hi int) { kernels.GELUBackward(dx[lo:hi], dy[lo:hi], x[lo:hi]) })
}

// elementwise splits [0, n) over the pool in chunks whose bounds are
// multiples of 64, so that each element takes the same (vector or scalar)
// code for any number of threads.
func elementwise(pool *kernels.Pool, n int, fn func(lo, hi int)) {
	const blk = 64
	pool.For((n+blk-1)/blk, 4096/blk, func(lo, hi int) { fn(lo*blk, min(hi*blk, n)) })
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
			// The scale goes into the softmax (the same rounding as the
			// product's alpha), so the product stores its tiles directly.
			kernels.Gemm(false, true, T, T, dh, 1, q, ld, k, ld, 0, p, T)
			for i := 0; i < T; i++ {
				kernels.SoftmaxScaled(p[i*T:(i+1)*T], scale)
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
			// dS is stored scaled, so that the products below run without
			// an alpha (exactly the same values when the scale is a power
			// of two, as 1/sqrt(64) is).
			for i := 0; i < T; i++ {
				pr, dr := p[i*T:(i+1)*T], ds[i*T:(i+1)*T]
				var dot float32
				for j := range pr {
					dot += pr[j] * dr[j]
				}
				for j := range pr {
					dr[j] = pr[j] * (dr[j] - dot) * scale
				}
			}
			kernels.Gemm(false, false, T, dh, T, 1, ds, T, k, ld, 0, dq, ld)
			kernels.Gemm(true, false, T, dh, T, 1, ds, T, q, ld, 0, dk, ld)
		}
	})
}

// addInto sets x += y, split over the pool.
func addInto(pool *kernels.Pool, x, y []float32) {
	pool.For(len(x), 1<<14, func(lo, hi int) { kernels.Add(x[lo:hi], y[lo:hi]) })
}
