//go:build amd64

package kernels

import "math"

//go:noescape
func addAVX2(x *float32, y *float32, n int)

//go:noescape
func axpyAVX2(y *float32, alpha float32, x *float32, n int)

//go:noescape
func geluGradAVX2(dx *float32, dy *float32, x *float32, n int, c *[geluGradConsts][4]float64)

const geluGradConsts = 26

// geluGradTable holds geluGradAVX2's constants, each repeated to a 32-byte
// vector; offsets (index*32) are hard-coded in vec_amd64.s.
var geluGradTable = func() *[geluGradConsts][4]float64 {
	var t [geluGradConsts][4]float64
	set := func(i int, v float64) { t[i] = [4]float64{v, v, v, v} }
	set(0, math.Float64frombits(1<<63-1)) // abs mask
	set(1, 1/math.Sqrt2)
	set(2, erfP)
	set(3, 1)
	for i, c := range erfA { // 4..8
		set(4+i, c)
	}
	set(9, 0.5)
	set(10, log2e)
	set(11, round)
	set(12, math.Float64frombits(1023)) // exponent bias as an int64 lane
	set(13, ln2hi)
	set(14, ln2lo)
	// 15..22: 1/2!, ..., 1/9!.
	f := 1.0
	for i := 2; i <= 9; i++ {
		f *= float64(i)
		set(13+i, 1/f)
	}
	set(23, -700)
	set(24, 1/math.Sqrt(2*math.Pi))
	set(25, -0.5)
	return &t
}()

// addFast runs Add on a prefix of x (a multiple of 8 long) and returns its
// length.
func addFast(x, y []float32) int {
	n := len(x) &^ 7
	if n == 0 || !hasAVX2FMA || Path() == PathGeneric {
		return 0
	}
	addAVX2(&x[0], &y[0], n)
	return n
}

// axpyFast runs Axpy on a prefix of y (a multiple of 8 long) and returns
// its length.
func axpyFast(y []float32, alpha float32, x []float32) int {
	n := len(y) &^ 7
	if n == 0 || !hasAVX2FMA || Path() == PathGeneric {
		return 0
	}
	axpyAVX2(&y[0], alpha, &x[0], n)
	return n
}

// geluGradFast runs GELUBackward on a prefix (a multiple of 4 long) and
// returns its length.
func geluGradFast(dx, dy, x []float32) int {
	n := len(dx) &^ 3
	if n == 0 || !hasAVX2FMA || Path() == PathGeneric {
		return 0
	}
	geluGradAVX2(&dx[0], &dy[0], &x[0], n, geluGradTable)
	return n
}

//go:noescape
func maxArgAVX2(z *float32, ldz uintptr, rows int, mx *float32, arg *int32, row0 int, n int)

// maxArgFast runs maxArgRows on the first multiple of 8 columns and
// returns how many it did.
func maxArgFast(z []float32, ldz, rows int, mx []float32, arg []int32, row0 int) int {
	n := len(mx) &^ 7
	if n == 0 || rows <= 0 || !hasAVX2FMA || Path() == PathGeneric {
		return 0
	}
	_ = z[(rows-1)*ldz+n-1]
	maxArgAVX2(&z[0], uintptr(ldz*4), rows, &mx[0], &arg[0], row0, n)
	return n
}

//go:noescape
func maxRowsAVX2(z *float32, ldz uintptr, rows int, mx *float32, n int)

// maxRowsFast runs maxRows on the first multiple of 8 columns and returns
// how many it did.
func maxRowsFast(z []float32, ldz, rows int, mx []float32) int {
	n := len(mx) &^ 7
	if n == 0 || rows <= 0 || !hasAVX2FMA || Path() == PathGeneric {
		return 0
	}
	_ = z[(rows-1)*ldz+n-1]
	maxRowsAVX2(&z[0], uintptr(ldz*4), rows, &mx[0], n)
	return n
}

//go:noescape
func lnSumAVX2(x *float32, n int) float64

//go:noescape
func lnSqAVX2(x *float32, n int, mean float64) float64

//go:noescape
func lnApplyAVX2(y *float32, x *float32, gamma *float32, beta *float32, n int, mean float64, inv float64)

// lnVector reports whether LayerNorm's passes run vectorized.
func lnVector(n int) bool { return n >= 8 && hasAVX2FMA && Path() != PathGeneric }

// lnSumFast returns the float64 sum of a prefix of x (a multiple of 8
// long) and its length.
func lnSumFast(x []float32) (float64, int) {
	n := len(x) &^ 7
	if !lnVector(n) {
		return 0, 0
	}
	return lnSumAVX2(&x[0], n), n
}

// lnSqFast returns the sum of squared deviations from mean of a prefix of
// x (a multiple of 8 long) and its length.
func lnSqFast(x []float32, mean float64) (float64, int) {
	n := len(x) &^ 7
	if !lnVector(n) {
		return 0, 0
	}
	return lnSqAVX2(&x[0], n, mean), n
}

// lnApplyFast normalizes a prefix of x into y (a multiple of 8 long) and
// returns its length; gamma and beta are at least as long as x.
func lnApplyFast(y, x, gamma, beta []float32, mean, inv float64) int {
	n := len(x) &^ 7
	if !lnVector(n) {
		return 0
	}
	lnApplyAVX2(&y[0], &x[0], &gamma[0], &beta[0], n, mean, inv)
	return n
}
