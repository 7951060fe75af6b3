//go:build amd64

package kernels

//go:noescape
func packRows8AVX(d *float32, ds uintptr, a *float32, rs uintptr, n int)

// packRows8Fast does packRows8's work for the first multiple of 8 columns
// with AVX transposes and returns how many columns it did. The caller has
// checked the bounds of d and a.
func packRows8Fast(d []float32, ds int, a []float32, rs, kb int) int {
	n := kb / 8
	if n == 0 || !hasAVX2FMA || Path() == PathGeneric {
		return 0
	}
	packRows8AVX(&d[0], uintptr(ds*4), &a[0], uintptr(rs*4), n)
	return n * 8
}

//go:noescape
func copyRowsAVX(d *float32, ds uintptr, a *float32, as uintptr, n int, w int)

// copyRowsFast copies n rows of w floats (8 or 16) from a (row stride as)
// to d (row stride ds) and reports whether it did; the caller has checked
// the bounds.
func copyRowsFast(d []float32, ds int, a []float32, as, n, w int) bool {
	if n == 0 || !hasAVX2FMA || Path() == PathGeneric {
		return false
	}
	copyRowsAVX(&d[0], uintptr(ds*4), &a[0], uintptr(as*4), n, w)
	return true
}
