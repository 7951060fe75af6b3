package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// attentionGemm is Attention as two Gemm calls and Softmax per (text,
// head), the way the encoder computed it before the fused kernel; the
// fused kernel must reproduce it bit for bit on every path.
func attentionGemm(ctx, qkv []float32, segs []int, heads, dh int, scale float32) {
	H := heads * dh
	ld := 3 * H
	for s := 0; s+1 < len(segs); s++ {
		r0, T := segs[s], segs[s+1]-segs[s]
		if T == 0 {
			continue
		}
		scores := make([]float32, T*T)
		for h := 0; h < heads; h++ {
			q, k, v := qkv[r0*ld+h*dh:], qkv[r0*ld+H+h*dh:], qkv[r0*ld+2*H+h*dh:]
			Gemm(false, true, T, T, dh, scale, q, ld, k, ld, 0, scores, T)
			for i := 0; i < T; i++ {
				Softmax(scores[i*T : (i+1)*T])
			}
			Gemm(false, false, T, dh, T, 1, scores, T, v, ld, 0, ctx[r0*H+h*dh:], H)
		}
	}
}

// attentionRef is attention in float64 with math.Exp.
func attentionRef(ctx []float64, qkv []float32, segs []int, heads, dh int, scale float64) {
	H := heads * dh
	ld := 3 * H
	for s := 0; s+1 < len(segs); s++ {
		r0, T := segs[s], segs[s+1]-segs[s]
		for h := 0; h < heads; h++ {
			for i := 0; i < T; i++ {
				p := make([]float64, T)
				m := math.Inf(-1)
				for j := range p {
					var d float64
					for l := 0; l < dh; l++ {
						d += float64(qkv[(r0+i)*ld+h*dh+l]) * float64(qkv[(r0+j)*ld+H+h*dh+l])
					}
					p[j] = d * scale
					m = math.Max(m, p[j])
				}
				var sum float64
				for j := range p {
					p[j] = math.Exp(p[j] - m)
					sum += p[j]
				}
				for l := 0; l < dh; l++ {
					var c float64
					for j := range p {
						c += p[j] / sum * float64(qkv[(r0+j)*ld+2*H+h*dh+l])
					}
					ctx[(r0+i)*H+h*dh+l] = c
				}
			}
		}
	}
}

func TestAttention(t *testing.T) {
	cases := []struct {
		lens      []int
		heads, dh int
	}{
		{[]int{1}, 1, 1},
		{[]int{5, 0, 17}, 3, 8},
		{[]int{33, 7}, 2, 20},
		{[]int{128, 40}, 4, 64},
	}
	r := rand.New(rand.NewPCG(15, 16))
	forEachPath(t, func(t *testing.T) {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%v/%dx%d", tc.lens, tc.heads, tc.dh), func(t *testing.T) {
				segs := []int{0}
				for _, n := range tc.lens {
					segs = append(segs, segs[len(segs)-1]+n)
				}
				n, H := segs[len(segs)-1], tc.heads*tc.dh
				qkv := randSlice(r, n*3*H)
				for i := range qkv {
					qkv[i] *= 4 // peaked softmax rows as well as flat ones
				}
				scale := float32(1 / math.Sqrt(float64(tc.dh)))
				got := make([]float32, n*H)
				Attention(NewPool(2), got, qkv, segs, tc.heads, tc.dh, scale)
				want := make([]float32, n*H)
				attentionGemm(want, qkv, segs, tc.heads, tc.dh, scale)
				ref := make([]float64, n*H)
				attentionRef(ref, qkv, segs, tc.heads, tc.dh, float64(scale))
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("ctx[%d] = %g, Gemm+Softmax gives %g", i, got[i], want[i])
					}
					// Each output is a convex combination of values of
					// magnitude <= 4: fp32 error stays far below 1e-4.
					if math.Abs(float64(got[i])-ref[i]) > 1e-4 {
						t.Fatalf("ctx[%d] = %g, float64 reference %g", i, got[i], ref[i])
					}
				}
			})
		}
	})
}

// BenchmarkAttention: one DistilBERT layer's attention over 16 texts of
// 128 tokens (12 heads of 64) on two threads, fused versus the former
// Gemm + Softmax composition spread over the same pool.
func BenchmarkAttention(b *testing.B) {
	const texts, T, heads, dh = 16, 128, 12, 64
	segs := make([]int, texts+1)
	for s := range texts {
		segs[s+1] = (s + 1) * T
	}
	n, H := texts*T, heads*dh
	qkv := randSlice(rand.New(rand.NewPCG(17, 18)), n*3*H)
	ctx := make([]float32, n*H)
	pool := NewPool(2)
	scale := float32(1 / math.Sqrt(dh))
	b.Run("fused", func(b *testing.B) {
		for b.Loop() {
			Attention(pool, ctx, qkv, segs, heads, dh, scale)
		}
	})
	b.Run("gemm", func(b *testing.B) {
		for b.Loop() {
			pool.For(texts, 1, func(lo, hi int) {
				attentionGemm(ctx, qkv, segs[lo:hi+1], heads, dh, scale)
			})
		}
	})
}
