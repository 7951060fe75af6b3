//go:build amd64

package kernels

import (
	"testing"

	"golang.org/x/sys/cpu"
)

//go:noescape
func fmaPeakAVX512(n int)

// BenchmarkPeak measures the FMA peak of one core (register-only zmm
// FMAs), the ceiling for BenchmarkMatMul's GFLOP/s at 1 thread.
func BenchmarkPeak(b *testing.B) {
	if !cpu.X86.HasAVX512F {
		b.Skip("no AVX-512")
	}
	const iters = 1 << 20
	loopFLOPS(b, 512*iters, func() { fmaPeakAVX512(iters) })
}
