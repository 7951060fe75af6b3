package index

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// unpackBoth decodes n values of width w from src with the vector path
// allowed and with the portable loop alone.
func unpackBoth(src []byte, n, w int) (vec, port []uint32, okV, okP bool) {
	vec, port = make([]uint32, n), make([]uint32, n)
	okV = unpack(vec, src, w)
	saved := vectorWidth
	vectorWidth = 0
	okP = unpack(port, src, w)
	vectorWidth = saved
	return
}

// TestUnpackVector checks the AVX2 unpacker (where the CPU has it) against
// the portable loop and against the values packed, for every width, many
// lengths, and sources with and without bytes past the packed values.
func TestUnpackVector(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	if vectorWidth > 0 && useVectorUnpack() {
		// the vector path must be taken for a long run of narrow values
		if got := unpackVector(make([]uint32, 200), make([]byte, 200), 5); got != 200 {
			t.Fatalf("unpackVector decoded %d of 200 values", got)
		}
	} else {
		t.Log("no AVX2: only the portable unpacker is tested")
	}
	for w := 0; w <= 32; w++ {
		for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 31, 64, 65, 127, 128, 200} {
			vals := make([]uint32, n)
			for i := range vals {
				vals[i] = uint32(r.Uint64() & (1<<w - 1))
			}
			packed := appendPacked(nil, vals, w)
			for _, extra := range []int{0, 3, 40} {
				src := slices.Concat(packed, make([]byte, extra))
				for i := len(packed); i < len(src); i++ {
					src[i] = byte(r.Uint32())
				}
				vec, port, okV, okP := unpackBoth(src, n, w)
				if !okV || !okP {
					t.Fatalf("w=%d n=%d extra=%d: refused", w, n, extra)
				}
				if !slices.Equal(vec, vals) || !slices.Equal(port, vals) {
					t.Fatalf("w=%d n=%d extra=%d: vector %v portable %v, want %v", w, n, extra, vec, port, vals)
				}
			}
		}
	}
}

// FuzzUnpack: on any bytes, the vector and portable unpackers agree.
func FuzzUnpack(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, uint8(5), uint8(20))
	f.Fuzz(func(t *testing.T, src []byte, w, n uint8) {
		vec, port, okV, okP := unpackBoth(src, int(n), int(w%33))
		if okV != okP || okV && !slices.Equal(vec, port) {
			t.Fatalf("w=%d n=%d: vector %v (%v), portable %v (%v)", w%33, n, vec, okV, port, okP)
		}
	})
}
