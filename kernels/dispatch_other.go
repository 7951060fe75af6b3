//go:build !amd64

package kernels

// archKernels returns no SIMD microkernels: outside amd64 only the portable
// Go kernel runs.
func archKernels() []*microKernel { return nil }
