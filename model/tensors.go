package model

import (
	"encoding/binary"
	"fmt"
	"math"
)

// tensor is one named weight of a checkpoint, decoded on demand: loading
// reads only the tensors the architecture uses and skips buffers such as
// position_ids.
type tensor struct {
	shape []int
	read  func() ([]float32, error)
}

// checkpoint is the set of tensors of one weights file.
type checkpoint struct {
	name    string // file name, for errors
	tensors map[string]*tensor
}

// numel multiplies the dimensions of shape, failing on negative dimensions
// and on products above limit (the caller passes a bound derived from the
// file size, so a corrupt header cannot request a huge allocation).
func numel(shape []int, limit int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d == 0 {
			return 0, nil
		}
		if n > limit/int64(d) {
			return 0, fmt.Errorf("shape %v has more elements than the file can hold", shape)
		}
		n *= int64(d)
	}
	if n > limit {
		return 0, fmt.Errorf("shape %v has more elements than the file can hold", shape)
	}
	return n, nil
}

// dtype is an element type of stored weights.
type dtype struct {
	name string
	size int
	// decode converts little-endian elements to float32.
	decode func(dst []float32, src []byte)
}

var (
	dtF32 = dtype{"F32", 4, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	}}
	dtF64 = dtype{"F64", 8, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	}}
	dtF16 = dtype{"F16", 2, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = halfToFloat(binary.LittleEndian.Uint16(src[2*i:]))
		}
	}}
	dtBF16 = dtype{"BF16", 2, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	}}
)

// halfToFloat converts an IEEE 754 binary16 value to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // zero
		return math.Float32frombits(sign)
	}
	// subnormal: mant * 2^-24
	f := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}
