//go:build amd64

package kernels

//go:noescape
func softmaxExpAVX2(x *float32, n int, scale float32, m float64, c *[geluConsts][4]float64) (sum float64)

//go:noescape
func maxAVX2(x *float32, n int) float32

//go:noescape
func scaleAVX2(x *float32, n int, inv float64)

// softmaxExpFast runs the exponentiation pass of softmaxScaled with AVX2
// on a prefix of x (a multiple of 4 long), returning its length and the
// sum of the exponentials.
func softmaxExpFast(x []float32, scale float32, m float64) (int, float64) {
	n := len(x) &^ 3
	if n == 0 || !hasAVX2FMA || Path() == PathGeneric {
		return 0, 0
	}
	return n, softmaxExpAVX2(&x[0], n, scale, m, geluTable)
}

// scaleFast runs the normalization pass of softmaxScaled with AVX2 on a
// prefix of x and returns its length.
func scaleFast(x []float32, inv float64) int {
	n := len(x) &^ 3
	if n == 0 || !hasAVX2FMA || Path() == PathGeneric {
		return 0
	}
	scaleAVX2(&x[0], n, inv)
	return n
}

// maxFast returns the maximum of a prefix of x (a multiple of 8 long) and
// its length, 0 when it did nothing.
func maxFast(x []float32) (float32, int) {
	n := len(x) &^ 7
	if n == 0 || !hasAVX2FMA || Path() == PathGeneric {
		return 0, 0
	}
	return maxAVX2(&x[0], n), n
}
