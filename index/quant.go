package index

import (
	"fmt"
	"math"
)

// Quantization is how impacts (document term weights) are stored.
type Quantization uint8

const (
	// QuantU8 stores round(w/scale) in one byte with one global scale
	// (max weight / 255): the default, as in PISA and Anserini's
	// quantized SPLADE indexes, where it costs no measurable effectiveness.
	// BuildOptions.ImpactLevels may ask for fewer levels in the same byte
	// (scale max weight / levels), trading precision for size.
	QuantU8 Quantization = iota
	// QuantF16 stores IEEE half-precision floats.
	QuantF16
	// QuantF32 stores the weights unchanged.
	QuantF32
)

// ParseQuantization parses "u8", "f16" or "f32".
func ParseQuantization(s string) (Quantization, error) {
	switch s {
	case "u8":
		return QuantU8, nil
	case "f16":
		return QuantF16, nil
	case "f32":
		return QuantF32, nil
	}
	return 0, fmt.Errorf("unknown quantization %q (want u8, f16 or f32)", s)
}

func (q Quantization) String() string {
	switch q {
	case QuantU8:
		return "u8"
	case QuantF16:
		return "f16"
	case QuantF32:
		return "f32"
	}
	return fmt.Sprintf("Quantization(%d)", uint8(q))
}

// width is the bytes of one impact in the forward index.
func (q Quantization) width() int {
	switch q {
	case QuantF16:
		return 2
	case QuantF32:
		return 4
	}
	return 1
}

// maxF16 is the largest finite half-precision value.
const maxF16 = 65504

// f32ToF16 converts a non-negative float32 to half precision, rounding to
// nearest even. A positive weight never becomes zero: it is raised to the
// smallest subnormal half, so that no posting silently vanishes.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	var h uint16
	switch {
	case f == 0:
		return 0
	case exp >= 31:
		return 0x7bff // clamp to maxF16; the builder rejects larger weights
	case exp <= 0:
		// subnormal half: value = mant' * 2^-24
		if exp < -10 {
			return 1
		}
		m := mant | 0x800000
		shift := uint(14 - exp)
		h = uint16(m >> shift)
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		if h == 0 {
			h = 1
		}
		return h
	default:
		h = uint16(exp)<<10 | uint16(mant>>13)
		rem := mant & 0x1fff
		if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
			h++ // may carry into the exponent, which is still correct
		}
		if h >= 0x7c00 {
			h = 0x7bff
		}
		return h
	}
}

// f16ToF32 converts half precision to float32 (finite inputs only).
func f16ToF32(h uint16) float32 {
	exp := int(h >> 10 & 0x1f)
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		return float32(mant) * (1.0 / (1 << 24))
	case 31:
		return maxF16 // never written; see f32ToF16
	}
	return math.Float32frombits(uint32(exp-15+127)<<23 | mant<<13)
}

// MaxImpactLevels is the default and largest BuildOptions.ImpactLevels:
// all of a byte.
const MaxImpactLevels = 255

// quantizeU8 maps w > 0 to a level in 1..top given scale = maxWeight/top:
// a positive weight never becomes 0, so no posting vanishes.
func quantizeU8(w float32, scale float64, top uint8) uint8 {
	q := math.Round(float64(w) / scale)
	if q < 1 {
		q = 1
	}
	if q > float64(top) {
		q = float64(top)
	}
	return uint8(q)
}
