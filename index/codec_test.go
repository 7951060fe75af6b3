package index

import (
	"math/rand/v2"
	"testing"
)

func TestPackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, w int }{{0, 0}, {1, 1}, {128, 0}, {128, 1}, {127, 7}, {128, 13}, {5, 32}, {128, 32}, {3, 31}} {
		vals := make([]uint32, tc.n)
		for i := range vals {
			if tc.w > 0 {
				vals[i] = uint32(r.Uint64() & (1<<tc.w - 1))
			}
		}
		enc := appendPacked(nil, vals, tc.w)
		if len(enc) != packedLen(tc.n, tc.w) {
			t.Fatalf("n=%d w=%d: len %d, want %d", tc.n, tc.w, len(enc), packedLen(tc.n, tc.w))
		}
		got := make([]uint32, tc.n)
		if !unpack(got, enc, tc.w) {
			t.Fatalf("n=%d w=%d: unpack failed", tc.n, tc.w)
		}
		for i := range vals {
			if got[i] != vals[i] {
				t.Fatalf("n=%d w=%d: value %d = %d, want %d", tc.n, tc.w, i, got[i], vals[i])
			}
		}
	}
	if unpack(make([]uint32, 10), make([]byte, 3), 5) {
		t.Fatal("unpack accepted a short buffer")
	}
	if unpack(make([]uint32, 1), make([]byte, 8), 33) {
		t.Fatal("unpack accepted width 33")
	}
}

func TestPForRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name string
		gen  func(i int) uint32
		n    int
	}{
		{"zeros", func(int) uint32 { return 0 }, 128},
		{"small", func(int) uint32 { return uint32(r.IntN(4)) }, 128},
		{"bursty", func(i int) uint32 {
			if i%17 == 0 {
				return uint32(r.IntN(1 << 20))
			}
			return uint32(r.IntN(3))
		}, 128},
		{"uniform", func(int) uint32 { return r.Uint32() }, 100},
		{"single", func(int) uint32 { return 77 }, 1},
		{"all exceptions wide", func(i int) uint32 { return 1<<31 | uint32(i) }, 128},
	} {
		vals := make([]uint32, tc.n)
		for i := range vals {
			vals[i] = tc.gen(i)
		}
		enc := appendPFor(nil, vals, nil)
		got := make([]uint32, tc.n)
		used := decodePFor(got, enc, make([]uint32, tc.n))
		if used != len(enc) {
			t.Fatalf("%s: consumed %d of %d bytes", tc.name, used, len(enc))
		}
		for i := range vals {
			if got[i] != vals[i] {
				t.Fatalf("%s: value %d = %d, want %d", tc.name, i, got[i], vals[i])
			}
		}
		if len(enc) > 3+packedLen(tc.n, 32) {
			t.Fatalf("%s: %d bytes, more than plain packing", tc.name, len(enc))
		}
	}
}
