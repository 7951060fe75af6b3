package index

import (
	"math"
	"testing"
)

func TestF16(t *testing.T) {
	for _, tc := range []struct {
		in   float32
		want float32
	}{
		{0, 0}, {1, 1}, {0.5, 0.5}, {2.75, 2.75}, {65504, 65504}, {1e-8, float32(math.Ldexp(1, -24))},
		{1.0009765625, 1.0009765625}, {1.00048828125, 1}, // tie rounds to even
		{6.103515625e-05, 6.103515625e-05}, // smallest normal
	} {
		if got := f16ToF32(f32ToF16(tc.in)); got != tc.want {
			t.Errorf("f16(%g) = %g, want %g", tc.in, got, tc.want)
		}
	}
	// every half value round-trips
	for h := uint16(0); h < 0x7c00; h++ {
		if got := f32ToF16(f16ToF32(h)); got != h && !(h == 0 && got == 0) {
			t.Fatalf("half %#x -> %g -> %#x", h, f16ToF32(h), got)
		}
	}
}

func TestQuantizeU8(t *testing.T) {
	scale := 3.0 / 255
	for _, tc := range []struct {
		w    float32
		want uint8
	}{{3, 255}, {1e-9, 1}, {1.5, 128}, {3.01, 255}} {
		if got := quantizeU8(tc.w, scale); got != tc.want {
			t.Errorf("quantizeU8(%g) = %d, want %d", tc.w, got, tc.want)
		}
	}
}
