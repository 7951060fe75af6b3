//go:build amd64

package kernels

import "golang.org/x/sys/cpu"

//go:generate go run gen_asm.go

// Microkernel shapes; keep mrAVX512 and mrAVX2 in sync with gen_asm.go.
const (
	mrAVX512 = 8
	mrAVX2   = 6
)

//go:noescape
func kernAVX512(k int, a *float32, b *float32, bstride uintptr, c *float32, ldc uintptr, bias *float32, accum bool)

//go:noescape
func kernAVX512x16(k int, a *float32, b *float32, bstride uintptr, c *float32, ldc uintptr, bias *float32, accum bool)

//go:noescape
func kernAVX2(k int, a *float32, b *float32, bstride uintptr, c *float32, ldc uintptr, bias *float32, accum bool)

// archKernels returns the SIMD microkernels this CPU supports, fastest first.
func archKernels() []*microKernel {
	var ks []*microKernel
	if cpu.X86.HasAVX512F {
		tall := &microKernel{name: PathAVX512, mr: 16, nr: 16, mc: 48, fn: kernAVX512x16}
		ks = append(ks, &microKernel{name: PathAVX512, mr: mrAVX512, nr: 32, mc: 48, fn: kernAVX512, tall: tall})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, &microKernel{name: PathAVX2, mr: mrAVX2, nr: 16, mc: 48, fn: kernAVX2})
	}
	return ks
}
