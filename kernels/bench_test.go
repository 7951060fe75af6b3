package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmarks report GFLOP/s (2 flops per multiply-add). Run e.g.
//
//	go test -run '^$' -bench . -count 5 ./kernels | benchstat -
//
// and SPLADE_KERNELS=avx2 for the AVX2 path.

func reportGFLOPS(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
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
					for b.Loop() {
						w.MatMul(pool, y, x, m, bias)
					}
					reportGFLOPS(b, 2*float64(m*sh.in*sh.out))
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
					for b.Loop() {
						w.SpladePool(pool, res, h, segs, bias, mode)
					}
					reportGFLOPS(b, 2*float64(m*in*out))
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
			for b.Loop() {
				Gemm(false, true, n, n, dh, 0.125, q, hidden, k, hidden, 0, scores, n)
			}
			reportGFLOPS(b, 2*float64(n*n*dh))
		})
		b.Run(fmt.Sprintf("PV_len%d", n), func(b *testing.B) {
			for b.Loop() {
				Gemm(false, false, n, dh, n, 1, scores, n, v, hidden, 0, ctx, hidden)
			}
			reportGFLOPS(b, 2*float64(n*n*dh))
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
				for b.Loop() {
					w.MatMulGELU(pool, y, x, m, bias)
				}
				reportGFLOPS(b, 2*float64(m*in*out))
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
