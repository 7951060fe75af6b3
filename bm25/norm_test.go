package bm25

import "testing"

func TestNorm(t *testing.T) {
	if numFreeValues != 24 {
		t.Fatalf("numFreeValues = %d, Lucene's is 24", numFreeValues)
	}
	tests := []struct {
		length int
		norm   uint8
		dl     int // decoded length
	}{
		{0, 0, 0}, {1, 1, 1}, {23, 23, 23}, // exact below 24
		{24, 24, 24}, {33, 33, 33}, {39, 39, 39}, // 4 significant bits above 24 are exact
		{40, 40, 40}, {41, 40, 40}, {42, 41, 42},
		{100, 57, 96}, {200, 67, 200}, {1000, 87, 984},
		{1<<31 - 1, 255, 15<<27 + 24}, // the largest byte
	}
	for _, tc := range tests {
		n := encodeNorm(tc.length)
		if n != tc.norm {
			t.Errorf("encodeNorm(%d) = %d, want %d", tc.length, n, tc.norm)
		}
		if dl := decodeNorm(n); dl != tc.dl {
			t.Errorf("decodeNorm(encodeNorm(%d)) = %d, want %d", tc.length, dl, tc.dl)
		}
	}
	// Decoding is monotonic, never overestimates and is exact for every
	// byte's own decoded length.
	prev := -1
	for b := 0; b < 256; b++ {
		dl := decodeNorm(uint8(b))
		if dl <= prev {
			t.Fatalf("decodeNorm(%d) = %d not above decodeNorm(%d) = %d", b, dl, b-1, prev)
		}
		if encodeNorm(dl) != uint8(b) {
			t.Fatalf("encodeNorm(decodeNorm(%d)) = %d", b, encodeNorm(dl))
		}
		prev = dl
	}
	for l := 0; l < 100000; l += 7 {
		if dl := decodeNorm(encodeNorm(l)); dl > l {
			t.Fatalf("length %d decodes to larger %d", l, dl)
		}
	}
}
