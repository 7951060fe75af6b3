package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/splade-go/splade/internal/cputime"
)

// Benchmarks report GFLOP/s (2 flops per multiply-add) of wall time and,
// where the OS reports it, per second of the process's CPU time
// ("GFLOP/cpu-s": per core, and far less sensitive than wall time to other
// jobs on a shared machine). Run e.g.
//
//	go test -run '^$' -bench . -count 5 ./kernels | benchstat -
//
// and SPLADE_KERNELS=avx2 for the AVX2 path. BenchmarkPeak gives the
// core's FMA peak to compare the GEMM with.

// loopFLOPS runs op in the benchmark loop (after one untimed call) and
// reports its GFLOP/s for flops per call.
func loopFLOPS(b *testing.B, flops float64, op func()) {
	op()
	c0 := cputime.Seconds()
	for b.Loop() {
		op()
	}
	c := cputime.Seconds() - c0
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if c > 0 {
		b.ReportMetric(flops*float64(b.N)/c/1e9, "GFLOP/cpu-s")
	}
}

func BenchmarkMatMul(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	shapes := []struct{ in, out int }{{768, 768}, {768, 3072}, {3072, 768}}
	for _, m := range []int{16, 2048} {
		for _, sh := range shapes {
			w := Pack(randSlice(r, sh.in*sh.out), sh.out, sh.in)
			x := randSlice(r, m*sh.in)
			y := make([]float32, m*sh.out)
			bias := randSlice(r, sh.out)
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("m%d_%dx%d_t%d", m, sh.in, sh.out, threads), func(b *testing.B) {
					pool := NewPool(threads)
					loopFLOPS(b, 2*float64(m*sh.in*sh.out), func() {
						w.MatMul(pool, y, x, m, bias)
					})
				})
			}
		}
	}
}

func BenchmarkSpladePool(b *testing.B) {
	const in, out = 768, 30522
	r := rand.New(rand.NewPCG(2, 2))
	w := Pack(randSlice(r, in*out), out, in)
	bias := randSlice(r, out)
	for _, m := range []int{16, 2048} {
		nseg := 16
		if m == 16 {
			nseg = 1 // one query
		}
		segs := make([]int, nseg+1)
		for s := range segs {
			segs[s] = s * m / nseg
		}
		h := randSlice(r, m*in)
		res := make([]float32, nseg*out)
		for _, mode := range []Pooling{PoolMax, PoolSum} {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("m%d_seg%d_mode%d_t%d", m, nseg, mode, threads), func(b *testing.B) {
					pool := NewPool(threads)
					loopFLOPS(b, 2*float64(m*in*out), func() {
						w.SpladePool(pool, res, h, segs, bias, mode)
					})
				})
			}
		}
	}
}

// BenchmarkGemmAttention times one head of attention for a 128-token text
// with Q, K, V inside a [tokens][768] row-major buffer.
func BenchmarkGemmAttention(b *testing.B) {
	const hidden, dh = 768, 64
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{16, 128, 512} {
		q := randSlice(r, n*hidden)
		k := randSlice(r, n*hidden)
		v := randSlice(r, n*hidden)
		scores := make([]float32, n*n)
		ctx := make([]float32, n*hidden)
		b.Run(fmt.Sprintf("QKt_len%d", n), func(b *testing.B) {
			loopFLOPS(b, 2*float64(n*n*dh), func() {
				Gemm(false, true, n, n, dh, 0.125, q, hidden, k, hidden, 0, scores, n)
			})
		})
		b.Run(fmt.Sprintf("PV_len%d", n), func(b *testing.B) {
			loopFLOPS(b, 2*float64(n*n*dh), func() {
				Gemm(false, false, n, dh, n, 1, scores, n, v, hidden, 0, ctx, hidden)
			})
		})
	}
}

func BenchmarkMatMulGELU(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	const in, out = 768, 3072
	w := Pack(randSlice(r, in*out), out, in)
	bias := randSlice(r, out)
	for _, m := range []int{16, 2048} {
		x := randSlice(r, m*in)
		y := make([]float32, m*out)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("m%d_%dx%d_t%d", m, in, out, threads), func(b *testing.B) {
				pool := NewPool(threads)
				loopFLOPS(b, 2*float64(m*in*out), func() {
					w.MatMulGELU(pool, y, x, m, bias)
				})
			})
		}
	}
}

// BenchmarkElementwise reports ns per element.
func BenchmarkElementwise(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	x := randSlice(r, 1<<16)
	buf := make([]float32, len(x))
	perElem := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(x)), "ns/elem")
	}
	b.Run("GELU", func(b *testing.B) {
		for b.Loop() {
			copy(buf, x)
			GELU(buf)
		}
		perElem(b)
	})
	b.Run("Softmax128", func(b *testing.B) {
		for b.Loop() {
			copy(buf, x)
			for i := 0; i < len(buf); i += 128 {
				Softmax(buf[i : i+128])
			}
		}
		perElem(b)
	})
	b.Run("LayerNorm768", func(b *testing.B) {
		gamma, beta := randSlice(r, 768), randSlice(r, 768)
		for b.Loop() {
			copy(buf, x)
			LayerNorm(buf[:768*85], 85, 768, gamma, beta, 1e-12)
		}
		perElem(b)
	})
	b.Run("log1pf", func(b *testing.B) {
		var s float32
		for b.Loop() {
			for _, v := range x {
				s += log1pf(v)
			}
		}
		perElem(b)
		buf[0] = s
	})
}

// BenchmarkProduct times the weight-gradient product of training, dW[out][in]
// += dy^T x over the tokens of a batch (dy read transposed, x packed by
// PackKN), and the input gradient dx = dy W.
func BenchmarkProduct(b *testing.B) {
	r := rand.New(rand.NewPCG(6, 6))
	const tokens = 8704 // 16 queries x 32 + 32 documents x 256
	for _, sh := range []struct{ in, out int }{{256, 256}, {256, 1024}, {768, 768}} {
		x := randSlice(r, tokens*sh.in)
		dy := randSlice(r, tokens*sh.out)
		w := randSlice(r, sh.out*sh.in)
		gw := make([]float32, sh.out*sh.in)
		dx := make([]float32, tokens*sh.in)
		for _, threads := range []int{1, 2} {
			pool := NewPool(threads)
			var p *Packed
			b.Run(fmt.Sprintf("dW_%dx%d_t%d", sh.in, sh.out, threads), func(b *testing.B) {
				loopFLOPS(b, 2*float64(tokens*sh.in*sh.out), func() {
					p = PackKN(pool, p, x, tokens, sh.in, sh.in)
					p.Product(pool, gw, dy, sh.out, true, true)
				})
			})
			b.Run(fmt.Sprintf("dx_%dx%d_t%d", sh.in, sh.out, threads), func(b *testing.B) {
				loopFLOPS(b, 2*float64(tokens*sh.in*sh.out), func() {
					p = PackKN(pool, p, w, sh.out, sh.in, sh.in)
					p.Product(pool, dx, dy, tokens, false, false)
				})
			})
		}
	}
}

// BenchmarkPoolFor measures the fixed cost of one parallel loop (two
// trivial chunks): the synchronization that a forward pass pays about 35
// times for one short query.
func BenchmarkPoolFor(b *testing.B) {
	pool := NewPool(2)
	var sink [2]int
	for b.Loop() {
		pool.For(2, 1, func(lo, hi int) { sink[lo]++ })
	}
}
