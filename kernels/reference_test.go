package kernels

import "math"

// The original portable loops, kept as the reference every path is tested
// against. They work on W in PyTorch's [out][in] layout.

func dotRef(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func matMulRef(w []float32, out, in int, y, x []float32, m int, bias []float32) {
	for i := 0; i < m; i++ {
		for j := 0; j < out; j++ {
			s := dotRef(x[i*in:(i+1)*in], w[j*in:(j+1)*in])
			if bias != nil {
				s += float64(bias[j])
			}
			y[i*out+j] = float32(s)
		}
	}
}

func spladePoolRef(w []float32, out, in int, res, h []float32, segs []int, bias []float32, mode Pooling) {
	for s := 0; s+1 < len(segs); s++ {
		for j := 0; j < out; j++ {
			var acc float64
			for i := segs[s]; i < segs[s+1]; i++ {
				z := dotRef(h[i*in:(i+1)*in], w[j*in:(j+1)*in])
				if bias != nil {
					z += float64(bias[j])
				}
				if z <= 0 {
					continue
				}
				v := math.Log1p(z)
				if mode == PoolMax {
					acc = max(acc, v)
				} else {
					acc += v
				}
			}
			res[s*out+j] = float32(acc)
		}
	}
}

func gemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
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
				s += float64(av) * float64(bv)
			}
			if beta == 0 {
				c[i*ldc+j] = float32(float64(alpha) * s)
			} else {
				c[i*ldc+j] = float32(float64(alpha)*s + float64(beta)*float64(c[i*ldc+j]))
			}
		}
	}
}
