// Package kernels holds the numeric loops that a transformer encoder spends
// its time in: matrix multiplication against packed weights, LayerNorm, GELU,
// softmax, and the fused SPLADE head (MLM logits -> log(1+ReLU) -> pooling
// over tokens) that never materializes the tokens x vocabulary logits.
//
// Every kernel has a portable Go implementation, which is the reference the
// fast paths are tested against.
package kernels

import (
	"math"
	"runtime"
	"sync"
)

// Pooling selects how the SPLADE head reduces token weights to a term weight.
type Pooling int

const (
	// PoolMax takes the maximum over tokens (SPLADE v2 and later; default).
	PoolMax Pooling = iota
	// PoolSum adds over tokens (the original SPLADE paper).
	PoolSum
)

// Pool runs loops on a fixed number of goroutines. A nil *Pool runs
// everything on the calling goroutine.
type Pool struct {
	threads int
}

// NewPool returns a pool of n workers (n <= 0: runtime.GOMAXPROCS).
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &Pool{threads: n}
}

// Threads returns the number of workers (1 for a nil pool).
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// For splits [0, n) into contiguous chunks of at least grain items and calls
// fn on them in parallel, returning when all are done.
func (p *Pool) For(n, grain int, fn func(lo, hi int)) {
	t := p.Threads()
	if grain < 1 {
		grain = 1
	}
	if t <= 1 || n <= grain {
		fn(0, n)
		return
	}
	chunks := (n + grain - 1) / grain
	if chunks > t {
		chunks = t
	}
	step := (n + chunks - 1) / chunks
	var wg sync.WaitGroup
	for lo := step; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		go func(lo, hi int) { defer wg.Done(); fn(lo, hi) }(lo, hi)
	}
	fn(0, min(step, n))
	wg.Wait()
}

// Packed is a weight matrix of a linear layer, y = x W^T + b, with W given
// in PyTorch's [out][in] row-major layout, rearranged once at load time for
// the multiplication kernels. It is read-only and safe for concurrent use.
type Packed struct {
	Out, In int
	w       []float32 // [Out][In], the portable layout
}

// Pack copies w ([out][in] row-major) into a Packed matrix.
func Pack(w []float32, out, in int) *Packed {
	if len(w) != out*in {
		panic("kernels.Pack: size mismatch")
	}
	return &Packed{Out: out, In: in, w: append([]float32(nil), w...)}
}

// MatMul sets y[m][Out] = x[m][In] W^T + bias (bias may be nil).
func (p *Packed) MatMul(pool *Pool, y, x []float32, m int, bias []float32) {
	pool.For(p.Out, 64, func(lo, hi int) {
		for i := 0; i < m; i++ {
			xi := x[i*p.In : (i+1)*p.In]
			for j := lo; j < hi; j++ {
				s := dot(xi, p.w[j*p.In:(j+1)*p.In])
				if bias != nil {
					s += bias[j]
				}
				y[i*p.Out+j] = s
			}
		}
	})
}

// SpladePool computes the SPLADE head for a batch of texts whose hidden
// states h[m][In] are stacked by text: text s owns rows segs[s]..segs[s+1]-1.
// For each text and term j it writes
//
//	out[s][j] = pool over its rows i of log(1 + ReLU(h_i . W_j + bias_j))
//
// into out[len(segs)-1][Out]. The logits are produced and reduced tile by
// tile, never stored whole.
func (p *Packed) SpladePool(pool *Pool, out, h []float32, segs []int, bias []float32, mode Pooling) {
	nseg := len(segs) - 1
	pool.For(p.Out, 256, func(lo, hi int) {
		for s := 0; s < nseg; s++ {
			for j := lo; j < hi; j++ {
				wj := p.w[j*p.In : (j+1)*p.In]
				var acc float32
				for i := segs[s]; i < segs[s+1]; i++ {
					z := dot(h[i*p.In:(i+1)*p.In], wj)
					if bias != nil {
						z += bias[j]
					}
					if z <= 0 {
						continue
					}
					v := float32(math.Log1p(float64(z)))
					if mode == PoolMax {
						acc = max(acc, v)
					} else {
						acc += v
					}
				}
				out[s*p.Out+j] = acc
			}
		}
	})
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// Gemm computes C = alpha * op(A) op(B) + beta * C for row-major matrices,
// where op transposes when the flag is set; C is m x n and the inner
// dimension is k. Used for attention scores and context (small, per head).
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for l := 0; l < k; l++ {
				var av, bv float32
				if transA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if transB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// LayerNorm normalizes each of the rows of x (length dim) in place:
// x = (x - mean) / sqrt(var + eps) * gamma + beta, with the biased variance
// as PyTorch computes it.
func LayerNorm(x []float32, rows, dim int, gamma, beta []float32, eps float32) {
	for r := 0; r < rows; r++ {
		v := x[r*dim : (r+1)*dim]
		var mean float64
		for _, f := range v {
			mean += float64(f)
		}
		mean /= float64(dim)
		var variance float64
		for _, f := range v {
			d := float64(f) - mean
			variance += d * d
		}
		variance /= float64(dim)
		inv := 1 / math.Sqrt(variance+float64(eps))
		for i, f := range v {
			v[i] = float32((float64(f)-mean)*inv)*gamma[i] + beta[i]
		}
	}
}

// GELU applies the exact (erf) GELU in place: x * (1 + erf(x/sqrt 2)) / 2.
func GELU(x []float32) {
	for i, f := range x {
		x[i] = float32(0.5 * float64(f) * (1 + math.Erf(float64(f)/math.Sqrt2)))
	}
}

// Softmax replaces x by exp(x - max) / sum in place.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := x[0]
	for _, f := range x[1:] {
		m = max(m, f)
	}
	var s float64
	for i, f := range x {
		e := math.Exp(float64(f - m))
		x[i] = float32(e)
		s += e
	}
	inv := float32(1 / s)
	for i := range x {
		x[i] *= inv
	}
}

// Add sets x[i] += y[i] (residual connections).
func Add(x, y []float32) {
	for i := range x {
		x[i] += y[i]
	}
}
