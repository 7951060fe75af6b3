//go:build amd64

package kernels

import (
	"math"

	"golang.org/x/sys/cpu"
)

const geluConsts = 30

//go:noescape
func geluAVX2(x *float32, n int, c *[geluConsts][4]float64)

// geluTable holds geluAVX2's constants, each repeated to a 32-byte vector;
// offsets (index*32) are hard-coded in gelu_amd64.s.
var geluTable = func() *[geluConsts][4]float64 {
	var t [geluConsts][4]float64
	set := func(i int, v float64) { t[i] = [4]float64{v, v, v, v} }
	set(0, math.Float64frombits(1<<63-1)) // abs mask
	set(1, 1/math.Sqrt2)
	set(2, 0.5)
	set(3, 1)
	set(4, math.Float64frombits(1<<63)) // sign mask
	set(5, log2e)
	set(6, round)
	set(7, math.Float64frombits(1023)) // exponent bias as an int64 lane
	set(8, ln2hi)
	set(9, ln2lo)
	for i, c := range erfcCoef { // 10..19
		set(10+i, c)
	}
	set(20, 4)
	// 22..29: 1/2!, ..., 1/9! (1/1! and 1/0! use constant 3).
	f := 1.0
	for i := 2; i <= 9; i++ {
		f *= float64(i)
		set(20+i, 1/f)
	}
	return &t
}()

var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// geluFast runs the vector GELU on a prefix of x (a multiple of 4 long)
// and returns how many elements it did.
func geluFast(x []float32) int {
	n := len(x) &^ 3
	if n == 0 || !hasAVX2FMA || Path() == PathGeneric {
		return 0
	}
	geluAVX2(&x[0], n, geluTable)
	return n
}
