//go:build !amd64

package kernels

// packRows8Fast has no vector implementation outside amd64.
func packRows8Fast(d []float32, ds int, a []float32, rs, kb int) int { return 0 }

// copyRowsFast has no vector implementation outside amd64.
func copyRowsFast(d []float32, ds int, a []float32, as, n, w int) bool { return false }
